/**
 * GPADLs: GPADL_HEADER/BODY assembly, creation in the GPADL table,
 * GPADL_TEARDOWN, and the teardowns that wait for the host to unmap.
 *
 * Assembly follows OpenVMM (channels.rs:1229-1254, 2787-2929): the header's
 * `len` fixes the buffer's capacity at `len / 8` u64s, each message adds what
 * still fits and extra values are ignored (UEFI pads its messages), and the
 * GPADL is complete when the buffer is full. Then its `count` ranges are
 * parsed with the GPA range codec and checked against guest memory. Creation
 * is answered at once: GPADL_CREATED with status 0, or VMBUS_STATUS_UNSUCCESSFUL.
 */
import { MemoryError, gpaRangesFromWire } from '../../memory/index.js';
import type { GpaRange, GpadlMapping, GpadlTeardown } from '../../memory/index.js';
import { decodeGpaRanges } from '../../wire/gpa-range.js';
import type { MessageOfKind } from '../../wire/messages/index.js';
import { NTSTATUS } from '../../wire/ntstatus.js';
import { WireError } from '../../wire/wire-error.js';
import { isRevoked, type ChannelRecord } from './channel.js';
import type { GpadlRecord, ServerCore } from './core.js';
import { checkDisconnected } from './disconnect.js';

/** GPADL_HEADER: starts a GPADL, or creates it when the header holds the whole range buffer. */
export function handleGpadlHeader(core: ServerCore, msg: MessageOfKind<'GpadlHeader'>): void {
  const { channelId, gpadlId } = msg;
  const fail = (reason: string): void => {
    core.rejected(msg.kind, reason, { channelId, gpadlId });
    // Every header error is answered, even for an unknown channel id (channels.rs:2850-2867).
    core.send({ kind: 'GpadlCreated', channelId, gpadlId, status: NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL });
  };
  const channel = core.visibleChannel(channelId);
  if (typeof channel === 'string') return fail(channel);
  // Ids are unique per connection: bodies and GPADL_TORNDOWN name only the GPADL (openvmm-vmbus.md §3.2).
  if (core.gpadls.has(gpadlId)) return fail(`GPADL id ${gpadlId} is in use`);
  const record: GpadlRecord = {
    gpadlId,
    offerId: channel.offerId,
    channelId,
    state: { kind: 'in-progress', count: msg.count, capacity: Math.floor(msg.len / 8), values: [] },
  };
  core.gpadls.set(gpadlId, record);
  appendRanges(core, record, channel, msg.range, msg.kind);
}

/** GPADL_BODY: adds to a GPADL in progress. A body for any other id cannot be answered: it names no channel. */
export function handleGpadlBody(core: ServerCore, msg: MessageOfKind<'GpadlBody'>): void {
  const record = core.gpadls.get(msg.gpadlId);
  if (record === undefined || record.state.kind !== 'in-progress') {
    core.dropped(msg.kind, `no GPADL ${msg.gpadlId} is in progress`, { gpadlId: msg.gpadlId });
    return;
  }
  const channel = core.channels.get(record.offerId);
  // In-progress GPADLs are dropped when their channel is released, so the channel is there.
  if (channel === undefined) throw new Error(`GPADL ${record.gpadlId} in progress without its channel`);
  appendRanges(core, record, channel, msg.range, msg.kind);
}

/**
 * GPADL_TEARDOWN: allowed only for a created GPADL of the named channel
 * (channels.rs:2932-2996). GPADL_TORNDOWN goes out at once unless the host
 * maps the GPADL; then the mapper is asked to let go and it goes out after the
 * last unmap.
 */
export function handleGpadlTeardown(core: ServerCore, msg: MessageOfKind<'GpadlTeardown'>): void {
  const { channelId, gpadlId } = msg;
  const channel = core.visibleChannel(channelId);
  if (typeof channel === 'string') return core.dropped(msg.kind, channel, { channelId, gpadlId });
  const record = core.gpadls.get(gpadlId);
  if (record === undefined || record.offerId !== channel.offerId) {
    return core.dropped(msg.kind, `channel ${channelId} has no GPADL ${gpadlId}`, { channelId, gpadlId });
  }
  if (record.state.kind !== 'created') {
    return core.dropped(msg.kind, `GPADL ${gpadlId} is ${record.state.kind}, not created`, { channelId, gpadlId });
  }
  startTeardown(core, record, record.state.ranges);
}

/**
 * Starts the teardown the guest asked for of a created GPADL (also the one a
 * restore finds saved mid-teardown): GPADL_TORNDOWN at once if the host maps
 * nothing of it, else the mapper is asked to let go and it follows the last unmap.
 */
export function startTeardown(core: ServerCore, record: GpadlRecord, ranges: readonly GpaRange[]): void {
  const { gpadlId, channelId, offerId } = record;
  const teardown = core.table.beginTeardown(gpadlId);
  // The record says the table holds a GPADL that is not tearing down; anything else is a server bug.
  if (teardown instanceof MemoryError) throw teardown;
  if (teardown.tornDown) {
    core.gpadls.delete(gpadlId);
    core.send({ kind: 'GpadlTorndown', gpadlId });
    checkDisconnected(core);
    return;
  }
  record.state = { kind: 'tearing-down', ranges };
  core.outbox.action({ type: 'gpadl-teardown', offerId, channelId, gpadlId });
}

/**
 * Releases a host mapping. When it was the last one of a GPADL being torn
 * down, the GPADL is gone: GPADL_TORNDOWN goes out if the guest asked for the
 * teardown and still holds the channel.
 */
export function unmapGpadl(core: ServerCore, mapping: GpadlMapping): GpadlTeardown | MemoryError {
  let teardown: GpadlTeardown;
  try {
    teardown = core.table.unmap(mapping);
  } catch (error) {
    // A mapping that is not live here is the caller's mistake: report it, do not throw it.
    if (error instanceof MemoryError) return error;
    throw error;
  }
  if (teardown.tornDown) {
    const record = core.gpadls.get(teardown.gpadlId);
    core.gpadls.delete(teardown.gpadlId);
    if (record?.state.kind === 'tearing-down') core.send({ kind: 'GpadlTorndown', gpadlId: teardown.gpadlId });
    checkDisconnected(core);
  }
  return teardown;
}

/**
 * Lets go of a channel's GPADLs because the guest released the channel:
 * unfinished ones are forgotten, created ones torn down without GPADL_TORNDOWN
 * (the guest no longer waits for one). One the host still maps waits for the
 * unmap, and its mapper is asked to let go (channels.rs:3234-3270). The caller
 * checks for a finished disconnect.
 */
export function releaseChannelGpadls(core: ServerCore, channel: ChannelRecord): void {
  for (const record of [...core.gpadls.values()]) {
    if (record.offerId !== channel.offerId) continue;
    switch (record.state.kind) {
      case 'in-progress':
        core.gpadls.delete(record.gpadlId);
        break;
      case 'created': {
        const teardown = core.table.beginTeardown(record.gpadlId);
        if (teardown instanceof MemoryError) throw teardown;
        if (teardown.tornDown) {
          core.gpadls.delete(record.gpadlId);
          break;
        }
        record.state = { kind: 'releasing' };
        core.outbox.action({ type: 'gpadl-teardown', offerId: record.offerId, channelId: record.channelId, gpadlId: record.gpadlId });
        break;
      }
      case 'tearing-down':
        record.state = { kind: 'releasing' };
        break;
      case 'releasing':
        break;
    }
  }
}

function appendRanges(core: ServerCore, record: GpadlRecord, channel: ChannelRecord, data: readonly bigint[], kind: string): void {
  const state = record.state;
  if (state.kind !== 'in-progress') throw new Error(`GPADL ${record.gpadlId} is not in progress`);
  state.values.push(...data.slice(0, state.capacity - state.values.length));
  if (state.values.length < state.capacity) return;
  const ranges = createInTable(core, record, state.values, state.count);
  if (ranges instanceof Error) {
    core.gpadls.delete(record.gpadlId);
    core.rejected(kind, `GPADL ${record.gpadlId}: ${ranges.message}`, { channelId: record.channelId, gpadlId: record.gpadlId });
    core.send({ kind: 'GpadlCreated', channelId: record.channelId, gpadlId: record.gpadlId, status: NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL });
    return;
  }
  record.state = { kind: 'created', ranges };
  core.send({ kind: 'GpadlCreated', channelId: record.channelId, gpadlId: record.gpadlId, status: NTSTATUS.STATUS_SUCCESS });
  // A rescinded channel has no device to tell; the guest may still use the GPADL until it releases (PR #3959).
  if (!isRevoked(channel.state)) {
    core.outbox.action({ type: 'gpadl-created', offerId: record.offerId, channelId: record.channelId, gpadlId: record.gpadlId });
  }
}

/** Parses the complete range buffer as `count` ranges and registers them in the table. */
function createInTable(core: ServerCore, record: GpadlRecord, values: readonly bigint[], count: number): GpaRange[] | WireError | MemoryError {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setBigUint64(i * 8, value, true));
  const wireRanges = decodeGpaRanges(bytes, count);
  if (wireRanges instanceof WireError) return wireRanges;
  const ranges = gpaRangesFromWire(wireRanges);
  return core.table.create(record.gpadlId, { channelId: record.channelId, ranges }) ?? ranges;
}
