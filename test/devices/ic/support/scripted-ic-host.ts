/**
 * A host that the test scripts, byte by byte, for the guest IC drivers: the
 * real host bus offers the service's class and instance GUIDs (a KmclMachine:
 * host and guest partitions in one thread, seeded), and the test writes IC
 * packets into the channel's host→guest ring and reads the guest's answers
 * out of the other. It is also the hostile host: it sends whatever bytes the
 * test gives it.
 */
import assert from 'node:assert/strict';
import type { ChannelEndpoint, HostOffer } from '../../../../src/bus/index.js';
import type { IcServiceSpec } from '../../../../src/devices/ic/protocol/index.js';
import { KmclMachine, hostDrain } from '../../../kmcl/support/kmcl-machine.js';

export class ScriptedIcHost {
  #endpoint: ChannelEndpoint | undefined;

  constructor(
    readonly m: KmclMachine,
    readonly offer: HostOffer,
  ) {}

  /** A machine whose host offers `spec`'s service; the guest bus is connected and its VMBus device made. */
  static async create(seed: number, spec: IcServiceSpec): Promise<ScriptedIcHost> {
    const m = new KmclMachine(seed);
    const offer = m.hostBus.offerChannel({ interfaceId: spec.classId, instanceId: spec.instanceId }, m.hostDevice);
    await m.connect();
    return new ScriptedIcHost(m, offer);
  }

  /** The host end of the open channel (after the guest driver opened it and the machine settled). */
  get endpoint(): ChannelEndpoint {
    if (this.#endpoint === undefined) {
      const endpoint = this.m.hostDevice.endpoints.get(this.offer.channelId!);
      assert.ok(endpoint !== undefined, 'the guest opened the channel');
      // The host's incoming ring starts masked (src/bus/host-types.ts): drain once so the guest signals.
      hostDrain(endpoint);
      this.#endpoint = endpoint;
    }
    return this.#endpoint;
  }

  /** Writes one in-band packet (no completion requested, as OpenVMM's IC pipe sends them) and signals. */
  send(payload: Uint8Array): void {
    const endpoint = this.endpoint;
    assert.ok(endpoint.writer.tryWriteInBand(payload, 0, 0, 0), 'host ring has room');
    if (endpoint.writer.commit()) endpoint.signalPeer();
  }

  /** Every packet payload the guest sent since the last call. */
  receive(): Uint8Array[] {
    return hostDrain(this.endpoint).map((packet) => packet.payload);
  }

  /** Sends `payload`, settles, and returns the one answer. */
  async exchange(payload: Uint8Array): Promise<Uint8Array> {
    this.send(payload);
    await this.m.settle();
    const answers = this.receive();
    assert.equal(answers.length, 1, 'one answer per message');
    return answers[0]!;
  }

  /** Sends `payload`, settles, and asserts the guest sent nothing back. */
  async exchangeNoAnswer(payload: Uint8Array): Promise<void> {
    this.send(payload);
    await this.m.settle();
    assert.deepEqual(this.receive(), []);
  }
}
