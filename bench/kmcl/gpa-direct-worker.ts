/**
 * Worker entry of the `kmcl` GPA-direct run (gpa-direct-run.ts), both ends on
 * the interface table. The guest (sender) keeps `window` packets in flight,
 * each an in-band header plus an MDL over its buffer, resending each one from
 * its completion routine. The host (receiver) maps every packet's external
 * data, checks it against the header, copies it into its own buffer with the
 * same `TypedArray.set` as its plain-copy baseline, and completes.
 */
import { workerData } from 'node:worker_threads';
import {
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY,
  VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA,
  type ExternalDataMapping,
  type KMCL_CLIENT_INTERFACE_V5,
  type Out,
  type VMBPACKET,
} from '../../src/index.js';
import { GuestMemory, Mdl, PAGE_SIZE } from '../../src/memory/index.js';
import { waitForGo } from '../ring/bench-control.js';
import { announceReady, postResult } from '../ring/bench-worker.js';
import { copyBytes } from '../../src/ring/shared-copy.js';
import type { CopyTiming, GpaDirectWorkerData, PlainCopyMeasurement } from './gpa-direct-run.js';
import { BenchSide } from './kmcl-worker-data.js';
import { DoorbellEndpoint, benchDevice } from './ring-pair-port.js';
import { check, openOnTable, serve } from './table-channel.js';

/** The in-band part of each transfer: the byte count of its external data (u32), padded to 8. */
const HEADER_BYTES = 8;

const data = workerData as GpaDirectWorkerData;
const side = new BenchSide(data);
const memory = new GuestMemory(data.guestMemory);
const firstFreePfn = Math.ceil((data.sourceGpa + data.transferBytes) / PAGE_SIZE);

/** Copies the whole buffer again and again: unmeasured for `warmupMs`, then counted for `durationMs`. */
function timeCopies(copy: () => void, warmupMs: number, durationMs: number): CopyTiming {
  const warmupEnd = process.hrtime.bigint() + BigInt(warmupMs) * 1_000_000n;
  while (process.hrtime.bigint() < warmupEnd) copy();
  const start = process.hrtime.bigint();
  const end = start + BigInt(durationMs) * 1_000_000n;
  let copies = 0;
  let now = start;
  while (now < end) {
    copy();
    copies++;
    now = process.hrtime.bigint();
  }
  return { copies, seconds: Number(now - start) / 1e9 };
}

function measurePlainCopy(source: Uint8Array, destination: Uint8Array, warmupMs: number, durationMs: number): PlainCopyMeasurement {
  return {
    set: timeCopies(() => destination.set(source), warmupMs, durationMs),
    copyBytes: timeCopies(() => copyBytes(destination, 0, source), warmupMs, durationMs),
  };
}

async function host(): Promise<void> {
  const endpoint = new DoorbellEndpoint(data.forward, data.backward, side.peer, side.ringPeer);
  const destination = new Uint8Array(data.transferBytes);
  const mapping: Out<ExternalDataMapping | null> = { value: null };
  let copied = 0;
  let kmcl: KMCL_CLIENT_INTERFACE_V5 | null = null;
  ({ kmcl } = await openOnTable(
    endpoint,
    (_channel, packet, buffer, length, flags) => {
      // The guest is a peer: its header and ranges are checked before the copy.
      if ((flags & VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA) === 0 || length < HEADER_BYTES) {
        throw new Error('a GPA-direct transfer without external data or header');
      }
      const byteCount = new DataView(buffer.buffer, buffer.byteOffset, length).getUint32(0, true);
      check('VmbChannelPacketGetExternalData', kmcl!.VmbChannelPacketGetExternalData(packet, VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY, mapping));
      const external = mapping.value!;
      if (byteCount !== destination.length || external.byteLength !== byteCount) {
        throw new Error(`a transfer of ${external.byteLength} bytes announced as ${byteCount}, expected ${destination.length}`);
      }
      check('copy out of guest memory', external.copyTo(0, destination));
      // Published here, not after the drain: with more than a drain batch in flight a drain never ends.
      side.publish(++copied);
      check('VmbChannelPacketComplete', kmcl!.VmbChannelPacketComplete(packet, null, 0));
    },
    benchDevice(endpoint, memory),
  ));
  const plainCopy = measurePlainCopy(memory.view(data.sourceGpa, data.transferBytes), destination, data.copyWarmupMs, data.copyDurationMs);
  announceReady();
  waitForGo(side.words);
  serve(endpoint, side, () => false, null);
  postResult(plainCopy);
}

async function guest(): Promise<void> {
  const endpoint = new DoorbellEndpoint(data.backward, data.forward, side.peer, side.ringPeer);
  const device = benchDevice(endpoint, memory, firstFreePfn);
  const { kmcl, channel } = await openOnTable(endpoint, (_channel, packet) => kmcl.VmbChannelPacketComplete(packet, null, 0), device);
  const mdl = Mdl.fromBuffer(data.sourceGpa, data.transferBytes);
  const header = new Uint8Array(HEADER_BYTES);
  new DataView(header.buffer).setUint32(0, data.transferBytes, true);
  const send = (packet: VMBPACKET): void =>
    check(
      'VmbPacketSendWithExternalMdl',
      kmcl.VmbPacketSendWithExternalMdl(packet, header, HEADER_BYTES, mdl, 0, data.transferBytes, VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION),
    );
  const packets = Array.from({ length: data.window }, () => {
    const packet = kmcl.VmbPacketAllocate(channel);
    if (packet === null) throw new Error('VmbPacketAllocate returned no packet');
    // Each completion sends its packet again: `window` transfers stay in flight.
    kmcl.VmbPacketSetCompletionRoutine(packet, (done, status) => {
      if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`a transfer completed with 0x${status.toString(16)}`);
      send(done);
    });
    return packet;
  });
  announceReady();
  waitForGo(side.words);
  for (const packet of packets) send(packet);
  serve(endpoint, side, () => false, null);
}

await (data.role === 'receiver' ? host() : guest());
