/**
 * The guest half of an echo exchange: `count` requests of varied sizes on one
 * open channel, resolved when every completion came back with its payload.
 */
import type { GuestOpenChannel } from '../../../src/bus/index.js';
import { PACKET_TYPE } from '../../../src/wire/packet-types.js';
import { PacketPump } from './packet-pump.js';

export interface ExchangeResult {
  readonly completions: number;
  /** Completions whose type, order or payload was wrong. */
  readonly mismatches: number;
  /** Times the guest waited for ring space. */
  readonly waits: number;
}

/**
 * The payload of request `transactionId` on a channel: 8 to 2000 bytes (in-band
 * payloads are padded to 8, linux-vmbus.md §A.1.2, so sizes stay multiples of 8).
 */
export function echoPayload(channelId: number, transactionId: number): Uint8Array {
  const length = 8 * (1 + ((transactionId * 37) % 250));
  return Uint8Array.from({ length }, (_, i) => (channelId * 31 + transactionId * 7 + i) & 0xff);
}

export function echoExchange(channel: GuestOpenChannel, count: number): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let completions = 0;
    let mismatches = 0;
    const pump = new PacketPump(channel, (packet) => {
      const expected = echoPayload(channel.channelId, completions + 1);
      const same =
        packet.packetType === PACKET_TYPE.VM_PKT_COMP &&
        packet.transactionId === completions + 1 &&
        packet.payload.length === expected.length &&
        packet.payload.every((byte, i) => byte === expected[i]);
      if (!same) mismatches++;
      if (++completions === count) {
        pump.stop();
        resolve({ completions, mismatches, waits: pump.waits });
      }
    });
    // The host may have written before OPEN_RESULT: drain once.
    pump.service();
    for (let id = 1; id <= count; id++) pump.request(echoPayload(channel.channelId, id), id);
  });
}
