/**
 * GPADLs a driver creates on its channel: from a buffer in guest memory, an
 * MDL chain, or (V4) a PFN list. Creation resolves once the host confirmed
 * the GPADL (GPADL_CREATED), so the server may map it at once; deletion
 * resolves on GPADL_TORNDOWN, which the host sends only after its last unmap.
 * Valid from EvtChannelOpened until the channel has closed (the driver
 * should delete its GPADLs in EvtChannelClosed; the close tears down the rest).
 */
import { Mdl as MemoryDescriptorList, MemoryError, PAGE_SIZE, type GpaRange } from '../memory/index.js';
import { NTSTATUS, type NtStatus } from '../wire/ntstatus.js';
import { hasOnlyFlags, isOut, isU32 } from './arguments.js';
import { busFailureStatus } from './bus-port.js';
import { VMBUS_CHANNEL_GPADL_FLAGS, VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY } from './flags.js';
import { channelFrom } from './handles.js';
import type { KmclChannel } from './channel/channel.js';
import type { Out, VMBCHANNEL } from './types.js';

function gpadlChannel(handle: unknown): KmclChannel | null {
  const channel = channelFrom(handle);
  // A server maps the guest's GPADLs (VmbChannelMapGpadl); it never creates any.
  return channel !== null && !channel.isServer && channel.inOpenWindow && channel.offer !== null ? channel : null;
}

async function create(channel: KmclChannel, flags: number, ranges: readonly GpaRange[], out: Out<number>): Promise<NtStatus> {
  const offer = channel.offer!;
  try {
    const readOnly = (flags & VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY) !== 0;
    const gpadlId = await channel.guestDevice.context.bus.createGpadl(offer.channelId, ranges, { readOnly });
    channel.gpadls.add(gpadlId);
    out.value = gpadlId;
    return NTSTATUS.STATUS_SUCCESS;
  } catch (error) {
    return busFailureStatus(error, NTSTATUS.STATUS_UNSUCCESSFUL);
  }
}

/**
 * VmbChannelCreateGpadlFromBuffer: `Buffer` must be a view into guest memory
 * (its pages are what the GPADL describes), else STATUS_INVALID_PARAMETER_3;
 * a ByteCount of 0 or beyond the view is _4; unknown flags _2; a bad
 * out-parameter _5; a channel that is not open _1. Other failures are the
 * bus's status.
 */
export function VmbChannelCreateGpadlFromBuffer(
  Channel: VMBCHANNEL,
  Flags: number,
  Buffer: Uint8Array,
  ByteCount: number,
  GpadlHandle: Out<number>,
): Promise<NtStatus> {
  const channel = gpadlChannel(Channel);
  if (channel === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  if (!hasOnlyFlags(Flags, VMBUS_CHANNEL_GPADL_FLAGS)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_2);
  const memory = channel.context.memory;
  if (!(Buffer instanceof Uint8Array) || Buffer.buffer !== memory.buffer) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_3);
  if (!isU32(ByteCount) || ByteCount === 0 || ByteCount > Buffer.length) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_4);
  if (!isOut<number>(GpadlHandle)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_5);
  const ranges = MemoryDescriptorList.fromBuffer(Buffer.byteOffset, ByteCount).toGpaRanges();
  if (ranges instanceof MemoryError) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_3);
  return create(channel, Flags, ranges, GpadlHandle);
}

/**
 * VmbChannelCreateGpadlFromMdl: `DataLengthWithinMdl` bytes (0: to the end) of
 * the MDL chain from `StartOffsetWithinMdl`. Statuses: _1 channel not open,
 * _2 flags, _3 an MDL not valid in guest memory, _4 an offset outside it, _5
 * a length outside it, _6 a bad out-parameter.
 */
export function VmbChannelCreateGpadlFromMdl(
  Channel: VMBCHANNEL,
  Flags: number,
  Mdl: MemoryDescriptorList,
  StartOffsetWithinMdl: number,
  DataLengthWithinMdl: number,
  GpadlHandle: Out<number>,
): Promise<NtStatus> {
  const channel = gpadlChannel(Channel);
  if (channel === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  if (!hasOnlyFlags(Flags, VMBUS_CHANNEL_GPADL_FLAGS)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_2);
  if (!(Mdl instanceof MemoryDescriptorList) || Mdl.validate(channel.context.memory) !== undefined) {
    return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_3);
  }
  if (!isU32(StartOffsetWithinMdl) || StartOffsetWithinMdl >= Mdl.chainByteCount) {
    return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_4);
  }
  if (!isU32(DataLengthWithinMdl)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_5);
  if (!isOut<number>(GpadlHandle)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_6);
  const ranges = Mdl.toGpaRanges(StartOffsetWithinMdl, DataLengthWithinMdl === 0 ? undefined : DataLengthWithinMdl);
  if (ranges instanceof MemoryError) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_5);
  return create(channel, Flags, ranges, GpadlHandle);
}

/**
 * VmbChannelCreateGpadlFromPfnList (V4, no DDI page). Decision: a GPADL of
 * the first `PfnCount` pages of `PfnList`, whole pages, in list order (one
 * GPA range). Statuses: _1 channel not open, _2 flags, _3 a list that is not
 * an array of pages in guest memory, _4 a count of 0 or beyond the list,
 * _5 a bad out-parameter.
 */
export function VmbChannelCreateGpadlFromPfnList(
  Channel: VMBCHANNEL,
  Flags: number,
  PfnList: readonly number[],
  PfnCount: number,
  GpadlHandle: Out<number>,
): Promise<NtStatus> {
  const channel = gpadlChannel(Channel);
  if (channel === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  if (!hasOnlyFlags(Flags, VMBUS_CHANNEL_GPADL_FLAGS)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_2);
  if (!Array.isArray(PfnList)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_3);
  if (!isU32(PfnCount) || PfnCount === 0 || PfnCount > PfnList.length || PfnCount > 0xfffff) {
    return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_4);
  }
  const memory = channel.context.memory;
  const pfns = PfnList.slice(0, PfnCount);
  if (!pfns.every((pfn) => memory.hasPfn(pfn))) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_3);
  if (!isOut<number>(GpadlHandle)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_5);
  return create(channel, Flags, [{ byteOffset: 0, byteCount: PfnCount * PAGE_SIZE, pfns }], GpadlHandle);
}

/**
 * VmbChannelDeleteGpadl: GPADL_TEARDOWN; resolves once the host let go of it
 * (it waits while the server still maps it). Decision: C's VOID becomes an
 * NTSTATUS: _1 for a bad handle, _2 for a GPADL this channel did not create
 * (or already deleted), else the bus's status.
 */
export function VmbChannelDeleteGpadl(Channel: VMBCHANNEL, GpadlHandle: number): Promise<NtStatus> {
  const channel = channelFrom(Channel);
  if (channel === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  if (!isU32(GpadlHandle) || !channel.gpadls.has(GpadlHandle) || channel.offer === null) {
    return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_2);
  }
  channel.gpadls.delete(GpadlHandle);
  return channel.guestDevice.context.bus.teardownGpadl(channel.offer.channelId, GpadlHandle).then(
    () => NTSTATUS.STATUS_SUCCESS,
    (error: unknown) => busFailureStatus(error, NTSTATUS.STATUS_UNSUCCESSFUL),
  );
}
