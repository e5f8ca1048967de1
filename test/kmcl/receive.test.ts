import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA,
  VmbChannelInitSetClientContextSize,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetProcessPacketCallbacksEx,
  VmbChannelPacketComplete,
  VmbChannelPacketDeferToPassive,
  VmbChannelPacketFail,
  VmbChannelPacketGetClientContext,
  VmbChannelSetIncomingProcessingAtPassive,
  VmbChannelSetTransactionQuota,
  type VMBPACKETCOMPLETION,
} from '../../src/index.js';
import { LoopbackEndpoint } from './support/loopback-bus.js';
import { PACKET_TYPE_COMPLETION, core, hostRead, hostSend, makeHarness, openChannel } from './support/harness.js';
import { settle } from './support/settle.js';

const S = NTSTATUS;

test('packets the host writes in one go are delivered in one batch, then ProcessingComplete with the count', async () => {
  const h = makeHarness();
  const { host, driver } = await openChannel(h);
  for (let i = 1; i <= 3; i++) host.writer.tryWriteInBand(new Uint8Array([i]));
  if (host.writer.commit()) host.signalPeer();
  await settle(h.scheduler);
  // Payloads keep their padding: the wire has no unpadded length (linux-vmbus.md §A.2).
  assert.deepEqual(driver.delivered.map((d) => [...d.bytes]), [1, 2, 3].map((i) => [i, 0, 0, 0, 0, 0, 0, 0]));
  assert.deepEqual(driver.batches, [3]);
  assert.equal(host.signalsSent, 1, 'one signal for the batch');
});

test('process-packet runs synchronously in the signal handler (DISPATCH_LEVEL) by default', async () => {
  const h = makeHarness();
  const levels: boolean[] = [];
  const { host } = await openChannel(h, (channel) =>
    VmbChannelInitSetProcessPacketCallbacks(channel, (_c, packet) => {
      levels.push(LoopbackEndpoint.inSignalHandler);
      VmbChannelPacketComplete(packet, null, 0);
    }, null),
  );
  hostSend(host, new Uint8Array(8));
  await settle(h.scheduler);
  assert.deepEqual(levels, [true]);
});

test('VmbChannelSetIncomingProcessingAtPassive(TRUE) delivers from the passive queue, never the signal handler', async () => {
  const h = makeHarness();
  const levels: boolean[] = [];
  const { channel, host } = await openChannel(h, (ch) =>
    VmbChannelInitSetProcessPacketCallbacks(ch, (_c, packet) => {
      levels.push(LoopbackEndpoint.inSignalHandler);
      VmbChannelPacketComplete(packet, null, 0);
    }, null),
  );
  assert.equal(VmbChannelSetIncomingProcessingAtPassive(channel, true), S.STATUS_SUCCESS);
  hostSend(host, new Uint8Array(8));
  hostSend(host, new Uint8Array(8));
  await settle(h.scheduler);
  assert.deepEqual(levels, [false, false]);
  assert.equal(VmbChannelSetIncomingProcessingAtPassive(channel, 'yes' as never), S.STATUS_INVALID_PARAMETER_2);
  assert.equal(VmbChannelSetIncomingProcessingAtPassive({} as never, true), S.STATUS_INVALID_PARAMETER_1);
});

test('VmbChannelPacketComplete sends a completion only when the peer asked for one', async () => {
  const h = makeHarness();
  const { host, driver } = await openChannel(h);
  driver.hold = true;
  hostSend(host, new Uint8Array([1]), { completion: true, tid: 0x1234 });
  hostSend(host, new Uint8Array([2]));
  await settle(h.scheduler);
  const [asked, silent] = driver.delivered;
  assert.equal(VmbChannelPacketComplete(silent!.packet, new Uint8Array([7]), 1), S.STATUS_SUCCESS);
  assert.equal(VmbChannelPacketComplete(asked!.packet, new Uint8Array([0xc0, 0xde]), 2), S.STATUS_SUCCESS);
  await settle(h.scheduler);
  const packets = hostRead(host);
  assert.equal(packets.length, 1);
  assert.equal(packets[0]!.type, PACKET_TYPE_COMPLETION);
  assert.equal(packets[0]!.transactionIdLo, 0x1234, 'the request\'s transaction id echoed');
  assert.deepEqual([...packets[0]!.payload], [0xc0, 0xde, 0, 0, 0, 0, 0, 0]);
});

test('VmbChannelPacketComplete rejects packets the driver does not hold and bad buffers', async () => {
  const h = makeHarness();
  const { host, driver } = await openChannel(h);
  driver.hold = true;
  hostSend(host, new Uint8Array(8), { completion: true });
  await settle(h.scheduler);
  const held = driver.delivered[0]!.packet;
  const cases: [string, unknown[], number][] = [
    ['not a packet', [{}, null, 0], S.STATUS_INVALID_PARAMETER_1],
    ['buffer shorter than BufSize', [held, new Uint8Array(1), 2], S.STATUS_INVALID_PARAMETER_2],
    ['no buffer with a size', [held, null, 4], S.STATUS_INVALID_PARAMETER_2],
    ['BufSize not a UINT32', [held, null, -1], S.STATUS_INVALID_PARAMETER_3],
    ['BufSize beyond the ring', [held, new Uint8Array(70000), 70000], S.STATUS_INVALID_PARAMETER_3],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((VmbChannelPacketComplete as (...a: unknown[]) => number)(...args), status, name);
  }
  assert.equal(VmbChannelPacketComplete(held, null, 0), S.STATUS_SUCCESS);
  assert.equal(VmbChannelPacketComplete(held, null, 0), S.STATUS_INVALID_PARAMETER_1, 'completed twice');
});

test('VmbChannelPacketFail retires the packet without a completion and stops the queue', async () => {
  const h = makeHarness();
  const { channel, host, driver } = await openChannel(h);
  driver.hold = true;
  hostSend(host, new Uint8Array([1]), { completion: true });
  await settle(h.scheduler);
  assert.equal(VmbChannelPacketFail(driver.delivered[0]!.packet), S.STATUS_SUCCESS);
  assert.equal(VmbChannelPacketFail(driver.delivered[0]!.packet), S.STATUS_INVALID_PARAMETER_1);
  hostSend(host, new Uint8Array([2]));
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 1, 'nothing after the failed packet');
  assert.deepEqual(hostRead(host), [], 'no completion');
  assert.equal(core(channel).incoming.outstanding, 0);
  assert.equal(VmbChannelPacketFail({} as VMBPACKETCOMPLETION), S.STATUS_INVALID_PARAMETER_1);
});

test('VmbChannelPacketDeferToPassive redelivers the packet at PASSIVE_LEVEL, before the packets after it', async () => {
  const h = makeHarness();
  const log: string[] = [];
  const { host } = await openChannel(h, (channel) =>
    VmbChannelInitSetProcessPacketCallbacks(channel, (_c, packet, buffer) => {
      const level = LoopbackEndpoint.inSignalHandler ? 'dispatch' : 'passive';
      log.push(`${buffer[0]}@${level}`);
      if (buffer[0] === 1 && level === 'dispatch') {
        assert.equal(VmbChannelPacketDeferToPassive(packet), S.STATUS_SUCCESS);
        return;
      }
      VmbChannelPacketComplete(packet, null, 0);
    }, null),
  );
  for (let i = 0; i < 3; i++) host.writer.tryWriteInBand(new Uint8Array([i]));
  if (host.writer.commit()) host.signalPeer();
  await settle(h.scheduler);
  assert.deepEqual(log, ['0@dispatch', '1@dispatch', '1@passive', '2@passive']);
});

test('VmbChannelPacketDeferToPassive is refused outside the process-packet call', async () => {
  const h = makeHarness();
  const { host, driver } = await openChannel(h);
  driver.hold = true;
  hostSend(host, new Uint8Array(8));
  await settle(h.scheduler);
  assert.equal(VmbChannelPacketDeferToPassive(driver.delivered[0]!.packet), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(VmbChannelPacketDeferToPassive(null as never), S.STATUS_INVALID_PARAMETER_1);
});

test('the transaction quota stops taking packets; raising it does not restart, a completion does', async () => {
  const h = makeHarness();
  const { channel, host, driver } = await openChannel(h);
  driver.hold = true;
  assert.equal(VmbChannelSetTransactionQuota(channel, 2), S.STATUS_SUCCESS);
  for (let i = 0; i < 5; i++) host.writer.tryWriteInBand(new Uint8Array([i]));
  if (host.writer.commit()) host.signalPeer();
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 2);
  VmbChannelSetTransactionQuota(channel, 10);
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 2, 'raising the quota does not restart the queue');
  VmbChannelPacketComplete(driver.delivered[0]!.packet, null, 0);
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 5);
  assert.equal(VmbChannelSetTransactionQuota(channel, 0), S.STATUS_INVALID_PARAMETER_2, '"must be greater than 0"');
  assert.equal(VmbChannelSetTransactionQuota(7 as never, 1), S.STATUS_INVALID_PARAMETER_1);
});

test('the client context is zeroed per delivery, given to the Ex callback, and null without a size', async () => {
  const h = makeHarness();
  const contexts: Uint8Array[] = [];
  const batches: [number, boolean][] = [];
  const { host } = await openChannel(h, (channel) => {
    VmbChannelInitSetClientContextSize(channel, 16);
    VmbChannelInitSetProcessPacketCallbacksEx(
      channel,
      (_c, packet, _b, _l, _f, context) => {
        assert.equal(VmbChannelPacketGetClientContext(packet), context);
        assert.ok(context.every((b) => b === 0));
        context.fill(0x5a);
        contexts.push(context);
        VmbChannelPacketComplete(packet, null, 0);
      },
      (_c, count, more) => batches.push([count, more]),
    );
  });
  hostSend(host, new Uint8Array(8));
  await settle(h.scheduler);
  hostSend(host, new Uint8Array(8));
  await settle(h.scheduler);
  assert.equal(contexts.length, 2);
  assert.equal(contexts[0]!.length, 16);
  assert.deepEqual(batches, [[1, false], [1, false]]);

  const bare = makeHarness();
  let seen: Uint8Array | null | undefined;
  const { host: bareHost } = await openChannel(bare, (channel) =>
    VmbChannelInitSetProcessPacketCallbacks(channel, (_c, packet) => {
      seen = VmbChannelPacketGetClientContext(packet);
      VmbChannelPacketComplete(packet, null, 0);
    }, null),
  );
  hostSend(bareHost, new Uint8Array(8));
  await settle(bare.scheduler);
  assert.equal(seen, null);
  assert.equal(VmbChannelPacketGetClientContext({} as never), null);
});

test('completions of the guest\'s sends and the host\'s data packets interleave in ring order', async () => {
  const h = makeHarness();
  const { host, driver } = await openChannel(h);
  hostSend(host, new Uint8Array([1]));
  host.writer.tryWriteCompletion(new Uint8Array(0), 99, 99); // unknown: dropped
  hostSend(host, new Uint8Array([2]));
  await settle(h.scheduler);
  assert.deepEqual(driver.delivered.map((d) => d.bytes[0]), [1, 2]);
  assert.equal(driver.delivered[0]!.flags & VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA, 0);
});

test('a packet that is not a data packet stops the queue and is counted', async () => {
  const h = makeHarness();
  const { channel, host, driver } = await openChannel(h);
  host.writer.tryWrite(1 /* VM_PKT_SYNCH */, 0, 0, 0, new Uint8Array(0), new Uint8Array(8));
  hostSend(host, new Uint8Array([5]));
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 0);
  assert.deepEqual(driver.batches, [], 'a batch of no delivered packet is no batch');
  assert.equal(core(channel).counters.malformedPackets, 1);
  assert.match(core(channel).faultDetail ?? '', /not a data packet/);
});
