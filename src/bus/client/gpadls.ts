/**
 * The client's GPADLs: guest-chosen ids, the GPADL_HEADER/GPADL_BODY split of a
 * range list, and each GPADL's state until the host has let go of it.
 *
 * Split (openvmm-vmbus.md §6.5; vmbus_client/src/lib.rs:1265-1294): the range
 * buffer is a list of u64 values (per range its `{byteCount u32, byteOffset u32}`
 * word, then its page numbers); the header carries the first 27, each body the
 * next 28; `len` is the byte size of the whole buffer, `count` the number of ranges.
 */
import { GPA_PAGE_SIZE, validateGpaRange } from '../../wire/gpa-range.js';
import type { GpaRange as WireGpaRange } from '../../wire/gpa-range.js';
import { MAX_MESSAGE_SIZE, messageSpecOfName } from '../../wire/messages/index.js';
import type { ChannelMessage, MessageOfKind } from '../../wire/messages/index.js';
import type { GpaRange } from '../../memory/gpa-range.js';
import { post, runningSession } from './core.js';
import type { ClientCore, Verdict } from './core.js';
import { LOCAL_COMPLETION_STATUS } from './events.js';
import { ClientRequestError, refuse } from './request-error.js';

const U64_SIZE = 8;

/** u64 values in a GPADL_HEADER after its 20-byte fixed part: (240 - 20) / 8 = 27. */
export const GPADL_HEADER_MAX_VALUES = (MAX_MESSAGE_SIZE - messageSpecOfName('GPADL_HEADER').variants[0]!.size) / U64_SIZE;
/** u64 values in a GPADL_BODY after its 16-byte fixed part: (240 - 16) / 8 = 28. */
export const GPADL_BODY_MAX_VALUES = (MAX_MESSAGE_SIZE - messageSpecOfName('GPADL_BODY').variants[0]!.size) / U64_SIZE;
/** The header's `len` is a u16 byte count, so a range buffer holds at most 8191 u64 values. */
export const GPADL_MAX_VALUES = Math.floor(0xffff / U64_SIZE);

/** Guest GPADL ids start where Linux starts them (connection.c:33); any non-zero u32 would do. */
export const FIRST_GPADL_ID = 0xe1e10;

/** creating: header and bodies are out → created: GPADL_CREATED(0) → tearing-down: GPADL_TEARDOWN is out. */
export type GpadlState = 'creating' | 'created' | 'tearing-down';

export interface GpadlRecord {
  readonly gpadlId: number;
  readonly channelId: number;
  state: GpadlState;
  /** Pages of a GPADL shaped like a ring buffer (one range, offset 0, whole pages), else null. */
  readonly ringPages: number | null;
}

/**
 * Checks a range list from a caller that may pass anything and returns it in
 * wire form: at least one range, each with a non-zero byte count, an offset in
 * the first page and exactly the pages it spans, and a buffer small enough for
 * the header's u16 length.
 */
export function checkGpadlRanges(ranges: readonly GpaRange[]): WireGpaRange[] | ClientRequestError {
  if (!Array.isArray(ranges) || ranges.length === 0) return refuse('bad-argument', 'a GPADL needs a non-empty array of ranges');
  const wire: WireGpaRange[] = [];
  let values = 0;
  for (let i = 0; i < ranges.length; i++) {
    const range: unknown = ranges[i];
    if (typeof range !== 'object' || range === null) return refuse('bad-argument', `GPADL range ${i} is not an object`);
    const { byteOffset, byteCount, pfns } = range as Partial<GpaRange>;
    if (!Array.isArray(pfns) || !pfns.every((pfn) => Number.isSafeInteger(pfn) && pfn >= 0)) {
      return refuse('bad-argument', `GPADL range ${i} needs an array of page numbers`);
    }
    const converted = { byteOffset: byteOffset as number, byteCount: byteCount as number, gpns: pfns.map(BigInt) };
    const problem = validateGpaRange(converted, i);
    if (problem !== null) return refuse('bad-argument', problem.message);
    wire.push(converted);
    values += 1 + pfns.length;
  }
  if (values > GPADL_MAX_VALUES) {
    return refuse('bad-argument', `a GPADL of ${values} u64 values exceeds the ${GPADL_MAX_VALUES} a u16 length can describe`);
  }
  return wire;
}

/** The ring size in pages of a GPADL with these ranges, or null if it cannot hold rings (openvmm-vmbus.md §6.4). */
export function ringPagesOf(ranges: readonly WireGpaRange[]): number | null {
  const only = ranges.length === 1 ? ranges[0]! : undefined;
  if (only === undefined || only.byteOffset !== 0 || only.byteCount % GPA_PAGE_SIZE !== 0) return null;
  return only.byteCount / GPA_PAGE_SIZE;
}

/** GPADL_HEADER, then as many GPADL_BODY messages as the rest of the range buffer needs. */
export function gpadlMessages(channelId: number, gpadlId: number, ranges: readonly WireGpaRange[]): ChannelMessage[] {
  const values: bigint[] = [];
  for (const range of ranges) {
    // The range's first u64 is byteCount (low half) and byteOffset (high half), little-endian.
    values.push(BigInt(range.byteCount) | (BigInt(range.byteOffset) << 32n), ...range.gpns);
  }
  const messages: ChannelMessage[] = [
    {
      kind: 'GpadlHeader',
      channelId,
      gpadlId,
      len: values.length * U64_SIZE,
      count: ranges.length,
      range: values.slice(0, GPADL_HEADER_MAX_VALUES),
    },
  ];
  for (let at = GPADL_HEADER_MAX_VALUES; at < values.length; at += GPADL_BODY_MAX_VALUES) {
    messages.push({ kind: 'GpadlBody', gpadlId, range: values.slice(at, at + GPADL_BODY_MAX_VALUES) });
  }
  return messages;
}

/** The GPADLs of one connection, by id. Ids are unique across channels: GPADL_BODY and GPADL_TORNDOWN carry no channel. */
export class ClientGpadls {
  readonly #records = new Map<number, GpadlRecord>();
  #nextId = FIRST_GPADL_ID;

  /**
   * A fresh id: counting up from the last one, skipping 0 and every live id, so
   * an id is never reused while alive and not soon after. Terminates: fewer
   * than 2^32 - 1 GPADLs can be alive.
   */
  allocateId(): number {
    let id = this.#nextId;
    while (id === 0 || this.#records.has(id)) id = (id + 1) >>> 0;
    this.#nextId = (id + 1) >>> 0;
    return id;
  }

  add(record: GpadlRecord): void {
    this.#records.set(record.gpadlId, record);
  }

  get(gpadlId: number): GpadlRecord | undefined {
    return this.#records.get(gpadlId);
  }

  remove(gpadlId: number): void {
    this.#records.delete(gpadlId);
  }

  /** The GPADLs of one channel, in creation order. */
  ofChannel(channelId: number): GpadlRecord[] {
    return [...this.#records.values()].filter((record) => record.channelId === channelId);
  }

  values(): IterableIterator<GpadlRecord> {
    return this.#records.values();
  }

  get size(): number {
    return this.#records.size;
  }

  clear(): void {
    this.#records.clear();
  }
}

/** Sends a new GPADL of `ranges` for a channel; returns its id, which GPADL_CREATED will name. */
export function createGpadl(core: ClientCore, channelId: number, ranges: readonly GpaRange[]): number | ClientRequestError {
  const session = runningSession(core, 'createGpadl');
  if (session instanceof ClientRequestError) return session;
  const channel = core.channels.get(channelId);
  if (channel === undefined) return refuse('unknown-channel', `no channel ${String(channelId)}`);
  if (channel.rescinded) return refuse('channel-rescinded', `channel ${channelId} was rescinded`);
  const wire = checkGpadlRanges(ranges);
  if (wire instanceof ClientRequestError) return wire;
  const gpadlId = core.gpadls.allocateId();
  core.gpadls.add({ gpadlId, channelId, state: 'creating', ringPages: ringPagesOf(wire) });
  for (const message of gpadlMessages(channelId, gpadlId, wire)) post(core, session, message);
  return gpadlId;
}

/** Sends GPADL_TEARDOWN for a live GPADL that no open or opening channel uses as its ring. */
export function teardownGpadl(core: ClientCore, channelId: number, gpadlId: number): ClientRequestError | undefined {
  const session = runningSession(core, 'teardownGpadl');
  if (session instanceof ClientRequestError) return session;
  const channel = core.channels.get(channelId);
  if (channel === undefined) return refuse('unknown-channel', `no channel ${String(channelId)}`);
  const gpadl = core.gpadls.get(gpadlId);
  if (gpadl === undefined || gpadl.channelId !== channelId) {
    return refuse('unknown-gpadl', `no GPADL ${String(gpadlId)} on channel ${channelId}`);
  }
  if (gpadl.state !== 'created') return refuse('gpadl-state', `GPADL ${gpadlId} is ${gpadl.state}`);
  const { lifecycle } = channel;
  if (lifecycle.state !== 'closed' && lifecycle.ringGpadlId === gpadlId) {
    return refuse('gpadl-state', `GPADL ${gpadlId} holds the rings of ${lifecycle.state} channel ${channelId}`);
  }
  gpadl.state = 'tearing-down';
  post(core, session, { kind: 'GpadlTeardown', channelId, gpadlId });
  return undefined;
}

/** GPADL_CREATED answers a GPADL being created, on the channel it was created for (linux-vmbus.md §A.4 item 11). */
export function handleGpadlCreated(core: ClientCore, msg: MessageOfKind<'GpadlCreated'>): Verdict {
  const gpadl = core.gpadls.get(msg.gpadlId);
  if (gpadl === undefined) return `GPADL_CREATED for unknown GPADL ${msg.gpadlId}`;
  if (gpadl.channelId !== msg.channelId) {
    return `GPADL_CREATED names channel ${msg.channelId} for GPADL ${msg.gpadlId} of channel ${gpadl.channelId}`;
  }
  if (gpadl.state !== 'creating') return `GPADL_CREATED for GPADL ${msg.gpadlId}, which is ${gpadl.state}`;
  if (msg.status === 0) gpadl.state = 'created';
  else core.gpadls.remove(msg.gpadlId);
  core.outbox.emit({ kind: 'gpadl-created', channelId: msg.channelId, gpadlId: msg.gpadlId, status: msg.status, cause: 'host' });
  return undefined;
}

/** GPADL_TORNDOWN answers a teardown; it names the GPADL only. */
export function handleGpadlTorndown(core: ClientCore, msg: MessageOfKind<'GpadlTorndown'>): Verdict {
  const gpadl = core.gpadls.get(msg.gpadlId);
  if (gpadl === undefined) return `GPADL_TORNDOWN for unknown GPADL ${msg.gpadlId}`;
  if (gpadl.state !== 'tearing-down') return `GPADL_TORNDOWN for GPADL ${msg.gpadlId}, which is ${gpadl.state}`;
  core.gpadls.remove(msg.gpadlId);
  core.outbox.emit({ kind: 'gpadl-torndown', channelId: gpadl.channelId, gpadlId: msg.gpadlId, cause: 'host' });
  return undefined;
}

/**
 * Forgets GPADLs the host drops by itself (REL_ID_RELEASED and UNLOAD release
 * every GPADL they cover, channels.rs:3237-3280), ending each with its one
 * completion: a failed creation or a teardown.
 */
export function forgetGpadls(core: ClientCore, gpadls: readonly GpadlRecord[], cause: 'released' | 'unloaded'): void {
  for (const { gpadlId, channelId, state } of gpadls) {
    core.gpadls.remove(gpadlId);
    core.outbox.emit(
      state === 'creating'
        ? { kind: 'gpadl-created', channelId, gpadlId, status: LOCAL_COMPLETION_STATUS[cause], cause }
        : { kind: 'gpadl-torndown', channelId, gpadlId, cause },
    );
  }
}
