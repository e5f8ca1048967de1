/**
 * After a restore, whether the guest may be waiting for a signal the old host
 * never sent (OpenVMM's "unstick", vmbus_server/src/lib.rs `unstick_channel`:
 * it looks at both rings' control pages and signals where the ring state says
 * a signal is due). On the host's two rings of an open channel that is:
 *
 * - host→guest ring, the guest reading: packets are published and the guest
 *   left its interrupt mask clear, so it waits to be told (the writer signals
 *   on empty → non-empty, linux-vmbus.md §A.1.3);
 * - guest→host ring, the guest writing: the guest set a pending send size (it
 *   waits for space, with the feature bit set) and more than that is free,
 *   so the reader owed it a signal (§A.1.4, `ring_buffer.c` `hv_pkt_iter_close`).
 *
 * The control pages are guest memory: every word is loaded once, and a ring
 * whose indices are not valid is left alone (reading it will fail anyway).
 */
import { RING_CONTROL_WORD, FEATURE_SUPPORTS_PENDING_SEND_SIZE, isValidRingIndex } from '../wire/ring-control.js';
import type { ChannelEndpoint } from './channel-endpoint.js';
import { ringBytesUsed } from '../ring/index.js';

/** True when the guest may have missed a signal on this host endpoint's rings. */
export function guestSignalDue(endpoint: ChannelEndpoint): boolean {
  const { reader, writer } = endpoint;
  return guestReaderWaits(writer.memory.control, writer.dataSize) || guestWriterWaits(reader.memory.control, reader.dataSize);
}

/** The host→guest ring holds packets and the guest's interrupt mask is clear. */
function guestReaderWaits(control: Int32Array, dataSize: number): boolean {
  const writeIndex = Atomics.load(control, RING_CONTROL_WORD.writeIndex) >>> 0;
  const readIndex = Atomics.load(control, RING_CONTROL_WORD.readIndex) >>> 0;
  const masked = Atomics.load(control, RING_CONTROL_WORD.interruptMask) !== 0;
  if (!isValidRingIndex(writeIndex, dataSize) || !isValidRingIndex(readIndex, dataSize)) return false;
  return !masked && writeIndex !== readIndex;
}

/** The guest waits for space in the guest→host ring, and more than it asked for is free. */
function guestWriterWaits(control: Int32Array, dataSize: number): boolean {
  if ((Atomics.load(control, RING_CONTROL_WORD.featureBits) & FEATURE_SUPPORTS_PENDING_SEND_SIZE) === 0) return false;
  // Low bits masked as the reader's commit masks them (some writers set ring size − 1).
  const pending = (Atomics.load(control, RING_CONTROL_WORD.pendingSendSize) & ~7) >>> 0;
  const writeIndex = Atomics.load(control, RING_CONTROL_WORD.writeIndex) >>> 0;
  const readIndex = Atomics.load(control, RING_CONTROL_WORD.readIndex) >>> 0;
  if (pending === 0 || !isValidRingIndex(writeIndex, dataSize) || !isValidRingIndex(readIndex, dataSize)) return false;
  return dataSize - ringBytesUsed(writeIndex, readIndex, dataSize) > pending;
}
