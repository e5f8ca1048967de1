/**
 * The host's promise layer over the IC session, without a channel: packets go
 * to a list, and the guest's answers come from the protocol's guest responders.
 * Every request ends exactly once, with the answer or a typed failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IcHostTransactions, IcTransactionError } from '../../../src/devices/ic/host/ic-host-transactions.js';
import {
  HEARTBEAT_HOST,
  IC_MESSAGE_TYPE,
  respondHeartbeat,
  type HeartbeatRequest,
  type HeartbeatResult,
  type IcVersionLists,
  type IcVersions,
} from '../../../src/devices/ic/protocol/index.js';
import { SeededScheduler } from '../../../src/hv/index.js';
import { WireError } from '../../../src/wire/index.js';

const V3: IcVersions = { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } };
/** icmsgtype is the u16 at byte 12 of a packet (pipe header 8 + 4; linux-vmbus.md §A.5.2). */
const typeOf = (packet: Uint8Array): number => new DataView(packet.buffer, packet.byteOffset).getUint16(12, true);

interface Rig {
  readonly ic: IcHostTransactions<HeartbeatRequest, HeartbeatResult>;
  readonly sent: Uint8Array[];
  readonly scheduler: SeededScheduler;
  readonly log: string[];
  /** The guest's answer to a sent packet, with the versions the guest has. */
  answer(packet: Uint8Array, versions?: IcVersions): Uint8Array;
}

function rig(options: { offer?: IcVersionLists; timeout100ns?: number } = {}): Rig {
  const scheduler = new SeededScheduler(1);
  const log: string[] = [];
  const ic = new IcHostTransactions({
    service: HEARTBEAT_HOST,
    offer: options.offer,
    scheduler,
    timeout100ns: options.timeout100ns,
    onNegotiated: (v) => log.push(`negotiated ${v.message.major}.${v.message.minor}`),
    onNegotiationFailed: (e) => log.push(`negotiation failed ${e.code}`),
    onRejected: (e) => log.push(`rejected ${e.code}`),
  });
  const sent: Uint8Array[] = [];
  ic.opened((packet) => sent.push(packet) > 0);
  return {
    ic,
    sent,
    scheduler,
    log,
    answer(packet, versions) {
      const reply = respondHeartbeat(packet, { versions, applicationState: 1 });
      assert.ok(!(reply instanceof WireError));
      return reply.response;
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<IcTransactionError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof IcTransactionError);
  return error;
}

test('opening sends the negotiation; requests wait for it, then go one at a time in order', async () => {
  const { ic, sent, log, answer } = rig();
  assert.deepEqual(sent.map(typeOf), [IC_MESSAGE_TYPE.NEGOTIATE]);
  assert.equal(ic.state, 'negotiating');
  const ready = ic.whenReady();
  const first = ic.request({ sequenceNumber: 10n });
  const second = ic.request({ sequenceNumber: 20n });
  assert.equal(sent.length, 1, 'nothing goes out before the versions are agreed');
  ic.receive(answer(sent[0]!));
  assert.deepEqual(await ready, V3);
  assert.deepEqual(sent.map(typeOf), [IC_MESSAGE_TYPE.NEGOTIATE, IC_MESSAGE_TYPE.HEARTBEAT], 'one transaction at a time');
  ic.receive(answer(sent[1]!, V3));
  assert.deepEqual(await first, { ok: true, sequenceNumber: 11n, applicationState: 1 });
  assert.equal(sent.length, 3);
  ic.receive(answer(sent[2]!, V3));
  assert.deepEqual(await second, { ok: true, sequenceNumber: 21n, applicationState: 1 });
  assert.deepEqual(log, ['negotiated 3.0']);
  assert.equal(ic.pending, 0);
});

test('closing ends the open and the waiting requests with "closed"; a request on a closed channel fails at once', async () => {
  const { ic, sent, answer } = rig();
  ic.receive(answer(sent[0]!));
  const open = ic.request({ sequenceNumber: 1n });
  const waiting = ic.request({ sequenceNumber: 2n });
  ic.closed();
  assert.equal((await failure(open)).reason, 'closed');
  assert.equal((await failure(waiting)).reason, 'closed');
  assert.equal((await failure(ic.request({ sequenceNumber: 3n }))).reason, 'closed');
  assert.equal(ic.state, 'closed');
  assert.equal(ic.versions, undefined);
});

test('no common version: the host reports it, and requests fail with "not-negotiated" until the next opening', async () => {
  const { ic, sent, log, answer } = rig({ offer: { framework: [V3.framework], message: [{ major: 9, minor: 0 }] } });
  const ready = ic.whenReady();
  const queued = ic.request({ sequenceNumber: 1n });
  ic.receive(answer(sent[0]!));
  assert.equal(ic.state, 'failed');
  assert.deepEqual(log, ['rejected not-negotiated', 'negotiation failed not-negotiated']);
  const error = await failure(queued);
  assert.equal(error.reason, 'not-negotiated');
  assert.match(error.message, /host offered 9\.0/);
  assert.equal((await failure(ready)).reason, 'not-negotiated');
  assert.equal((await failure(ic.request({ sequenceNumber: 2n }))).reason, 'not-negotiated');
  ic.closed();
  ic.opened((packet) => sent.push(packet) > 0);
  assert.equal(ic.state, 'negotiating', 'a new opening negotiates afresh');
});

test('a malformed answer fails its transaction with "malformed" and the next request goes out', async () => {
  const { ic, sent, answer } = rig();
  ic.receive(answer(sent[0]!));
  const bad = ic.request({ sequenceNumber: 1n });
  const good = ic.request({ sequenceNumber: 5n });
  const wrong = answer(sent[1]!, V3);
  new DataView(wrong.buffer).setBigUint64(28, 99n, true); // the sequence number (body @28) is not 1 + 1
  ic.receive(wrong);
  const error = await failure(bad);
  assert.equal(error.reason, 'malformed');
  assert.equal(error.wireError?.code, 'bad-value');
  ic.receive(answer(sent[2]!, V3));
  assert.deepEqual(await good, { ok: true, sequenceNumber: 6n, applicationState: 1 });
});

test('a request whose values do not fit the wire fails with "bad-request" and does not block the queue', async () => {
  const { ic, sent, answer } = rig();
  ic.receive(answer(sent[0]!));
  const bad = ic.request({ sequenceNumber: -1n });
  const good = ic.request({ sequenceNumber: 1n });
  assert.equal((await failure(bad)).reason, 'bad-request');
  ic.receive(answer(sent[1]!, V3));
  assert.equal((await good).ok, true);
});

test('an unanswered request times out, and the host negotiates afresh; the late answer is dropped as stale', async () => {
  const { ic, sent, scheduler, log, answer } = rig({ timeout100ns: 10_000 });
  ic.receive(answer(sent[0]!));
  const lost = ic.request({ sequenceNumber: 1n });
  scheduler.runUntil(scheduler.now() + 9_999);
  assert.equal(sent.length, 2, 'still waiting just before the timeout');
  scheduler.runUntil(scheduler.now() + 1);
  const error = await failure(lost);
  assert.equal(error.reason, 'timeout');
  assert.deepEqual(sent.map(typeOf), [IC_MESSAGE_TYPE.NEGOTIATE, IC_MESSAGE_TYPE.HEARTBEAT, IC_MESSAGE_TYPE.NEGOTIATE]);
  ic.receive(answer(sent[1]!, V3));
  assert.equal(log.at(-1), 'rejected bad-value', 'a heartbeat answer while negotiating is dropped');
  ic.receive(answer(sent[2]!));
  assert.equal(ic.state, 'ready');
  scheduler.runUntilIdle();
  assert.equal(ic.state, 'ready', 'timers of ended waits do nothing');
});

test('an answer cancels its timeout, and so does closing: no timer of an ended wait is left scheduled', async () => {
  const { ic, sent, scheduler, answer } = rig({ timeout100ns: 10_000 });
  assert.equal(scheduler.pending, 1, 'the negotiation waits with its timeout');
  ic.receive(answer(sent[0]!));
  assert.equal(scheduler.pending, 0);
  const answered = ic.request({ sequenceNumber: 1n });
  ic.receive(answer(sent[1]!, V3));
  assert.equal((await answered).ok, true);
  assert.equal(scheduler.pending, 0);
  const open = ic.request({ sequenceNumber: 2n });
  assert.equal(scheduler.pending, 1);
  ic.closed();
  assert.equal((await failure(open)).reason, 'closed');
  assert.equal(scheduler.pending, 0);
});

test('a packet after closing is dropped: a late negotiation answer does not make a closed channel ready', () => {
  const { ic, sent, log, answer } = rig();
  ic.closed();
  ic.receive(answer(sent[0]!));
  assert.equal(ic.state, 'closed');
  assert.deepEqual(log, []);
});

test('an offer that cannot be sent (an empty version list) fails negotiation at once, and requests with it', async () => {
  const { ic, sent, log } = rig({ offer: { framework: [V3.framework], message: [] } });
  assert.equal(sent.length, 0, 'nothing to send');
  assert.equal(ic.state, 'failed');
  assert.deepEqual(log, ['negotiation failed bad-value']);
  const error = await failure(ic.request({ sequenceNumber: 1n }));
  assert.equal(error.reason, 'not-negotiated');
  assert.equal(error.wireError?.code, 'bad-value');
});
