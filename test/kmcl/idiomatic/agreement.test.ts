/**
 * The two API surfaces agree: one scenario, written once against the
 * interface table (as a C driver would) and once against the idiomatic API,
 * each on a fresh machine with the real bus drivers and the same seed. The
 * host records every packet it reads (descriptor to padding, transaction ids
 * included) and the driver records every status (returned by the table, or
 * carried by the idiomatic API's KmclError): both records must be identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mdl, MemoryError, PAGE_SIZE } from '../../../src/memory/index.js';
import {
  KmclError,
  NTSTATUS,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VmbChannelAllocate,
  VmbChannelCreateGpadlFromBuffer,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetStateChangeCallbacks,
  VmbChannelPacketComplete,
  VmbChannelSendSynchronousRequest,
  VmbChannelSetTransactionQuota,
  VmbClientChannelInitSetTargetPnp,
  VmbPacketAllocate,
  VmbPacketFree,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  Vmbus,
  type IncomingPacket,
  type Out,
  type VMBCHANNEL,
  type VMBPACKETCOMPLETION,
} from '../../../src/index.js';
import type { ChannelEndpoint } from '../../../src/bus/index.js';
import { testSeed } from '../../support/seed.js';
import { TEST_INSTANCE, TEST_INTERFACE, hostComplete, hostSend } from '../support/harness.js';
import { KmclMachine, hostDrain } from '../support/kmcl-machine.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;

/** What one run of the scenario observed. */
interface Record {
  /** Every packet the host read, whole (descriptor to padding). */
  readonly wire: number[][];
  /** Every status the driver saw, in order. */
  readonly statuses: number[];
  /** Completion payloads the driver got back. */
  readonly responses: number[][];
}

/** The host's side of the scenario, the same for both runs. */
class ScenarioHost {
  readonly record: Record = { wire: [], statuses: [], responses: [] };
  host!: ChannelEndpoint;

  constructor(readonly m: KmclMachine) {}

  async connect(): Promise<void> {
    await this.m.settle();
    this.host = this.m.hostDevice.endpoints.values().next().value!;
  }

  /** Reads what the guest sent and completes every request with [0xc0 + its first byte]. */
  async answer(): Promise<void> {
    await this.m.settle();
    for (const packet of hostDrain(this.host)) {
      this.record.wire.push([...packet.bytes]);
      if ((packet.flags & 1) !== 0) hostComplete(this.host, packet.transactionIdLo, packet.transactionIdHi, new Uint8Array([0xc0 + (packet.payload[0] ?? 0)]));
    }
    await this.m.settle();
  }

  /** Reads what the guest sent without answering. */
  async read(): Promise<void> {
    await this.m.settle();
    for (const packet of hostDrain(this.host)) this.record.wire.push([...packet.bytes]);
  }
}

async function machine(seed: number): Promise<KmclMachine> {
  const m = new KmclMachine(seed);
  m.hostBus.offerChannel({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE }, m.hostDevice);
  await m.connect();
  return m;
}

/** The scenario on the interface table. */
async function tableRun(seed: number): Promise<Record> {
  const m = await machine(seed);
  const h = new ScenarioHost(m);
  const { statuses, responses } = h.record;
  const box: Out<VMBCHANNEL | null> = { value: null };
  statuses.push(VmbChannelAllocate(m.device, false, box));
  const channel = box.value!;
  statuses.push(VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, TEST_INSTANCE, null));
  statuses.push(VmbChannelInitSetStateChangeCallbacks(channel, VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT()));
  const delivered: VMBPACKETCOMPLETION[] = [];
  statuses.push(VmbChannelInitSetProcessPacketCallbacks(channel, (_c, packet) => void delivered.push(packet), null));
  statuses.push(VmbChannelSetTransactionQuota(channel, 256));
  statuses.push(VmbChannelEnable(channel));
  await h.connect();
  const send = (payload: Uint8Array, flags: number, mdl: Mdl | null = null): Promise<void> => {
    const packet = VmbPacketAllocate(channel)!;
    return new Promise((resolve) => {
      VmbPacketSetCompletionRoutine(packet, (done, status, buffer, length) => {
        VmbPacketFree(done);
        statuses.push(status);
        if (length > 0) responses.push([...buffer.subarray(0, length)]);
        resolve();
      });
      const status = VmbPacketSend(packet, payload, payload.length, mdl, flags);
      if (status !== S.STATUS_SUCCESS) {
        VmbPacketFree(packet);
        statuses.push(status);
        resolve();
      }
    });
  };
  // In-band sends waiting for completions, one not waiting, one too big, external data without waiting.
  const sends = [1, 2, 3].map((n) => send(new Uint8Array([n, n]), WAIT));
  sends.push(send(new Uint8Array([4]), 0), send(new Uint8Array(4097), WAIT));
  const pages = m.allocator.allocate(1, 'contiguous');
  if (pages instanceof MemoryError) throw pages;
  const mdl = Mdl.fromBuffer(pages[0]! * PAGE_SIZE, 100);
  sends.push(send(new Uint8Array([5]), 0, mdl), send(new Uint8Array([6]), WAIT, mdl));
  await h.answer();
  await m.drive(Promise.all(sends));
  // The host's request, completed with a response; a second completion of it is refused.
  hostSend(h.host, new Uint8Array([7, 7, 7]), { completion: true, tid: 70 });
  await m.settle();
  statuses.push(VmbChannelPacketComplete(delivered[0]!, new Uint8Array([0xaa, 0xbb]), 2));
  statuses.push(VmbChannelPacketComplete(delivered[0]!, null, 0));
  await h.read();
  // A synchronous request, answered; one that times out; a GPADL of memory that is not the guest's.
  const response = new Uint8Array(8);
  const size: Out<number> = { value: 8 };
  const requesting = VmbChannelSendSynchronousRequest(channel, new Uint8Array([8]), 1, null, WAIT, response, size, null);
  await h.answer();
  statuses.push(await m.drive(requesting));
  responses.push([...response.subarray(0, size.value)]);
  statuses.push(await m.drive(VmbChannelSendSynchronousRequest(channel, new Uint8Array([9]), 1, null, WAIT, null, null, { QuadPart: -10_000 })));
  await h.read();
  statuses.push(await m.drive(VmbChannelCreateGpadlFromBuffer(channel, 0, new Uint8Array(64), 64, { value: 0 })));
  // A send left waiting when the channel closes.
  const left = send(new Uint8Array([10]), WAIT);
  await h.read();
  statuses.push(await m.drive(VmbChannelDisable(channel)));
  await m.drive(left);
  return h.record;
}

/** The same scenario on the idiomatic API. */
async function idiomaticRun(seed: number): Promise<Record> {
  const m = await machine(seed);
  const h = new ScenarioHost(m);
  const { statuses, responses } = h.record;
  const settle = async (work: Promise<unknown>): Promise<void> => {
    try {
      const response = await work;
      statuses.push(S.STATUS_SUCCESS);
      if (response instanceof Uint8Array && response.length > 0) responses.push([...response]);
    } catch (error) {
      if (!(error instanceof KmclError)) throw error;
      statuses.push(error.status);
    }
  };
  const vmbus = new Vmbus(m.device);
  // Allocate, target, state callbacks, process-packet callbacks, quota: the constructor's setters.
  const channel = vmbus.createChannel({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  statuses.push(S.STATUS_SUCCESS, S.STATUS_SUCCESS, S.STATUS_SUCCESS, S.STATUS_SUCCESS, S.STATUS_SUCCESS);
  const opening = settle(channel.open());
  await h.connect();
  await m.drive(opening);
  const sends = [1, 2, 3].map((n) => settle(channel.send(new Uint8Array([n, n]), { waitForCompletion: true })));
  sends.push(settle(channel.send(new Uint8Array([4]), {})), settle(channel.send(new Uint8Array(4097), { waitForCompletion: true })));
  const buffer = vmbus.allocateBuffer(100);
  sends.push(
    settle(channel.send(new Uint8Array([5]), { external: buffer, waitForCompletion: false })),
    settle(channel.send(new Uint8Array([6]), { external: buffer })),
  );
  await h.answer();
  await m.drive(Promise.all(sends));
  hostSend(h.host, new Uint8Array([7, 7, 7]), { completion: true, tid: 70 });
  const packet: IncomingPacket = (await m.drive(channel.packets().next())).value!;
  for (const call of [() => packet.complete(new Uint8Array([0xaa, 0xbb])), () => packet.complete()]) {
    try {
      call();
      statuses.push(S.STATUS_SUCCESS);
    } catch (error) {
      statuses.push((error as KmclError).status);
    }
  }
  await h.read();
  const requesting = settle(channel.request(new Uint8Array([8]), { responseCapacity: 8 }));
  await h.answer();
  await m.drive(requesting);
  await m.drive(settle(channel.request(new Uint8Array([9]), { timeout: 1 })));
  await h.read();
  await m.drive(settle(channel.createGpadl(new Uint8Array(64))));
  const left = settle(channel.send(new Uint8Array([10]), { waitForCompletion: true }));
  await h.read();
  await m.drive(settle(channel.close()));
  await m.drive(left);
  return h.record;
}

test('the interface table and the idiomatic API put the same bytes on the wire and see the same statuses', async (t) => {
  const seed = testSeed(t.name);
  const table = await tableRun(seed);
  const idiomatic = await idiomaticRun(seed);
  assert.deepEqual(idiomatic.wire, table.wire);
  assert.deepEqual(idiomatic.statuses, table.statuses);
  assert.deepEqual(idiomatic.responses, table.responses);
  // And the scenario did what it says (so agreeing is not agreeing on nothing).
  // 4 in-band sends, 1 GPA-direct (the other refused), 1 completion, 2 requests, 1 send left at close.
  assert.equal(table.wire.length, 9);
  assert.deepEqual(
    table.statuses.filter((status) => status !== S.STATUS_SUCCESS),
    [S.STATUS_INVALID_PARAMETER_3, S.STATUS_INVALID_PARAMETER_5, S.STATUS_INVALID_PARAMETER_1, S.STATUS_CANCELLED, S.STATUS_INVALID_PARAMETER_3, S.STATUS_CANCELLED],
  );
});
