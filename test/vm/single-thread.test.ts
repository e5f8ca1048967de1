/**
 * createVm in single-thread mode: every partition in this thread under a
 * SeededScheduler, a host VSP module (echo-vsp.ts) and a KMCL guest driver
 * module (echo-guest.ts, the interface table), the lifecycle from boot to a
 * stop that leaves nothing, replay by seed, and errors that name the partition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingTrace, type TraceEvent } from '../../src/trace/index.js';
import { VMBUS_VERSION } from '../../src/wire/messages/index.js';
import { VmError, createVm, type GuestContext, type HostContext, type VmOptions } from '../../src/vm/index.js';
import { testSeed } from '../support/seed.js';
import type { EchoDone } from './echo-guest.js';
import { echoVsp, type EchoVsp } from './echo-vsp.js';
import { assertNothingLeft } from './leaks.js';

const ECHO_GUEST = new URL('./echo-guest.js', import.meta.url);
const FAULTY_GUEST = new URL('./faulty-guest.js', import.meta.url);

function isVmError(check: (error: VmError) => void): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof VmError, `a VmError, got ${String(error)}`);
    check(error);
    return true;
  };
}

test('single-thread: a KMCL driver in the guest echoes packets through the host VSP, and stop leaves nothing', async (t) => {
  const devices = new Map<string, EchoVsp>();
  const vm = await createVm({
    guests: [{ name: 'alpha', memoryPages: 512, vpCount: 2, data: { packets: 40 } }],
    mode: { kind: 'single-thread', seed: testSeed(t.name) },
    host: echoVsp(devices),
    guest: ECHO_GUEST,
  });
  assert.equal(vm.mode, 'single-thread');
  assert.deepEqual(vm.guests.map((g) => [g.name, g.index, g.partitionId, g.memory.pageCount]), [['alpha', 0, 1, 512]]);
  const done = await vm.run(vm.waitForEvent('echo-done', 'alpha'));
  assert.deepEqual(done.detail as EchoDone, { completions: 40, mismatches: 0, version: VMBUS_VERSION.Copper });
  assert.equal(devices.get('alpha')!.echoed, 40, 'the VSP echoed every request');
  assert.equal(devices.get('alpha')!.opened.length, 1);

  const report = await vm.stop();
  assert.deepEqual(devices.get('alpha')!.closed.length, 1, 'the driver closed its channel in its teardown');
  const tornDown = vm.events.find((event) => event.kind === 'echo-torn-down');
  assert.deepEqual(tornDown?.detail, { references: 0 }, 'the teardown ran and dropped its interface reference');
  assertNothingLeft(vm, report, 'in-thread');
  assert.equal(await vm.close(), report, 'close after stop is the same stop');
});

test('single-thread: a guest module given as a function gets its context; maxVersion caps the bus', async (t) => {
  const seen: unknown[][] = [];
  const schedulers = new Set<unknown>();
  const hosts: HostContext[] = [];
  const vm = await createVm({
    guests: [{ name: 'a' }, { name: 'b', vpCount: 3, data: { answer: 42 } }],
    mode: { kind: 'single-thread', seed: testSeed(t.name) },
    host: (context: HostContext) => void hosts.push(context),
    // Windows 10 is 4.0 (openvmm-vmbus.md §3.1 version table): the guest falls back from 6.0 to it.
    maxVersion: VMBUS_VERSION.Win10,
    guest: (context: GuestContext) => {
      seen.push([context.name, context.index, context.partition.id, context.partition.vpCount, context.data, context.bus.version, context.device.kind]);
      schedulers.add(context.scheduler);
      context.emit('hello', { from: context.name });
    },
  });
  const byName = (a: readonly unknown[], b: readonly unknown[]): number => String(a[0]).localeCompare(String(b[0]));
  assert.deepEqual(seen.sort(byName), [
    ['a', 0, 1, 1, undefined, VMBUS_VERSION.Win10, 'vmbus'],
    ['b', 1, 2, 3, { answer: 42 }, VMBUS_VERSION.Win10, 'vmbus'],
  ]);
  assert.deepEqual([...schedulers], [vm.simulation!.scheduler], 'modules run on the simulation\'s scheduler');
  assert.deepEqual(
    [...vm.events].sort((x, y) => x.guest.localeCompare(y.guest)),
    [
      { guest: 'a', kind: 'hello', detail: { from: 'a' } },
      { guest: 'b', kind: 'hello', detail: { from: 'b' } },
    ],
  );
  assert.equal(vm.guest('b').hostBus.version, VMBUS_VERSION.Win10);
  assert.deepEqual(
    hosts.map((h) => [h.guestName, h.guestIndex, h.guestPartition.id, h.partition.id, h.device.kind, h.device.bus === h.bus]),
    [
      ['a', 0, 1, 0, 'host', true],
      ['b', 1, 2, 0, 'host', true],
    ],
  );
  for (const h of hosts) {
    assert.equal(h.bus, vm.guest(h.guestName).hostBus);
    assert.equal(h.guestMemory, vm.guest(h.guestName).memory);
    assert.equal(h.scheduler, vm.simulation!.scheduler);
  }
  assert.throws(() => vm.guest('c'), RangeError);
  assertNothingLeft(vm, await vm.stop(), 'in-thread');
});

/** One seeded run of two guests echoing; the trace as comparable text. */
async function tracedRun(seed: number): Promise<string[]> {
  const trace = new RecordingTrace();
  const vm = await createVm({
    guests: [{ data: { packets: 12 } }, { data: { packets: 7 } }],
    mode: { kind: 'single-thread', seed },
    host: echoVsp(new Map()),
    guest: ECHO_GUEST,
    trace,
  });
  assertNothingLeft(vm, await vm.stop(), 'in-thread');
  return trace.events.map((event: TraceEvent) => JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)));
}

test('single-thread: the same seed gives the same trace, event for event', async (t) => {
  const seed = testSeed(t.name);
  const first = await tracedRun(seed);
  const second = await tracedRun(seed);
  assert.deepEqual(second, first);
  const events = first.map((line) => JSON.parse(line) as TraceEvent);
  const guestsSeen = new Set(events.map((event) => event.detail?.['vmGuest']).filter((name) => name !== undefined));
  assert.deepEqual([...guestsSeen].sort(), ['guest-0', 'guest-1'], 'every partition event says whose it is');
  assert.equal(events.filter((event) => event.kind === 'device-echo').length, 12 + 7);
  assert.deepEqual(
    events.filter((event) => event.layer === 'vm').map((event) => `${event.source} ${event.kind}`).sort(),
    ['guest-0 guest-booted', 'guest-0 guest-stopped', 'guest-1 guest-booted', 'guest-1 guest-stopped', 'vm vm-stopped'],
  );
});

test('single-thread: a guest module that throws at start rejects createVm naming the guest, and everything is released', async (t) => {
  const devices = new Map<string, EchoVsp>();
  await assert.rejects(
    createVm({
      guests: [
        { name: 'alpha', module: ECHO_GUEST, data: { packets: 3 } },
        { name: 'beta', module: FAULTY_GUEST, data: { fault: 'start' } },
      ],
      mode: { kind: 'single-thread', seed: testSeed(t.name) },
      host: echoVsp(devices),
    }),
    isVmError((error) => {
      assert.equal(error.failures.length, 1);
      const [failure] = error.failures;
      assert.deepEqual([failure!.partition, failure!.phase], ['beta', 'guest-start']);
      assert.match(error.message, /^guest "beta": its guest module failed to start: Error: driver init failed in beta$/);
      assert.match(failure!.stack!, /faulty-guest\.js/, 'the stack says where in the module');
      // alpha had booted: it was stopped and unloaded like any guest.
      assert.ok(error.report !== null);
      assert.deepEqual(error.report.failures, []);
      assert.deepEqual(error.report.guests.map((g) => [g.name, g.pagesAllocated, g.bus?.openChannels]), [['alpha', 0, 0], ['beta', 0, 0]]);
      assert.deepEqual(error.report.host.map((h) => [h.guest, h.connection, h.resources.guestPorts, h.resources.messagePorts]), [
        ['alpha', 'disconnected', 0, 0],
        ['beta', 'disconnected', 0, 0],
      ]);
    }),
  );
  assert.equal(devices.get('alpha')!.echoed, 3);
  assert.equal(devices.get('alpha')!.closed.length, 1);
});

test('single-thread: a teardown that throws makes stop reject naming the guest, after releasing everything', async (t) => {
  const vm = await createVm({
    guests: [{ name: 'gamma', data: { fault: 'teardown' } }],
    mode: { kind: 'single-thread', seed: testSeed(t.name) },
    guest: FAULTY_GUEST,
  });
  await assert.rejects(
    vm.stop(),
    isVmError((error) => {
      assert.deepEqual(
        error.failures.map((f) => [f.partition, f.phase, f.message]),
        [['gamma', 'guest-teardown', 'Error: driver unload failed in gamma']],
      );
      assert.ok(error.report !== null);
      assertNothingLeft(vm, { ...error.report, failures: [] }, 'in-thread');
    }),
  );
});

test('single-thread: bus, host-module and module-load failures reject createVm with the partition and the step', async (t) => {
  const seed = testSeed(t.name);
  const cases: { readonly name: string; readonly options: VmOptions; readonly failure: readonly [string, string, RegExp] }[] = [
    {
      // Two pages: page 0 is never handed out, so the bus cannot get its two monitor pages (linux-vmbus.md §A.3.1).
      name: 'the bus cannot connect',
      options: { guests: [{ name: 'tiny', memoryPages: 2 }], mode: { kind: 'single-thread', seed } },
      failure: ['tiny', 'connect', /BusError/],
    },
    {
      name: 'a host module throws',
      options: {
        guests: [{ name: 'g' }],
        mode: { kind: 'single-thread', seed },
        host: () => {
          throw new Error('VSP failed');
        },
      },
      failure: ['host', 'host-start', /^for guest "g": Error: VSP failed$/],
    },
    {
      name: 'a guest module file is missing',
      options: { guests: [{ name: 'g' }], mode: { kind: 'single-thread', seed }, guest: new URL('./no-such-module.js', import.meta.url) },
      failure: ['g', 'load', /no-such-module/],
    },
    {
      name: 'a module has no function export',
      options: { guests: [{ name: 'g' }], mode: { kind: 'single-thread', seed }, guest: { module: ECHO_GUEST, exportName: 'ECHO_INTERFACE' } },
      failure: ['g', 'load', /has no function export "ECHO_INTERFACE"/],
    },
  ];
  for (const { name, options, failure } of cases) {
    await assert.rejects(
      createVm(options),
      isVmError((error) => {
        const [first] = error.failures;
        assert.deepEqual([first!.partition, first!.phase], failure.slice(0, 2), name);
        assert.match(first!.message, failure[2], name);
        if (error.report !== null) assert.deepEqual(error.report.failures, [], `${name}: released cleanly`);
      }),
      name,
    );
  }
});

test('single-thread: invalid options are all reported at once, before anything is built', async () => {
  const cases: { readonly name: string; readonly options: VmOptions; readonly messages: readonly RegExp[] }[] = [
    { name: 'no guests', options: { guests: 0, mode: { kind: 'single-thread', seed: 1 } }, messages: [/1 to 14 guests, got 0/] },
    { name: 'too many guests', options: { guests: 15, mode: { kind: 'single-thread', seed: 1 } }, messages: [/1 to 14 guests, got 15/] },
    {
      name: 'duplicate names, bad sizes',
      options: { guests: [{ name: 'x', memoryPages: 1 }, { name: 'x', vpCount: 0 }], mode: { kind: 'single-thread', seed: 1.5 } },
      messages: [/seed must be an integer/, /guest "x": memoryPages must be an integer ≥ 2, got 1/, /two guests are named "x"/, /guest "x": vpCount must be 1\.\.64, got 0/],
    },
    {
      name: 'a function guest module in workers mode',
      options: { guests: 1, mode: { kind: 'workers' }, guest: () => undefined },
      messages: [/guest "guest-0": a guest module given as a function runs only in single-thread mode/],
    },
    {
      name: 'unknown version, bad timeout',
      options: { guests: 1, mode: { kind: 'workers', stopTimeoutMs: 0 }, maxVersion: 0x0004_0007 },
      messages: [/stopTimeoutMs must be a positive number/, /maxVersion 0x40007 is not a VMBus version/],
    },
  ];
  for (const { name, options, messages } of cases) {
    await assert.rejects(
      createVm(options),
      isVmError((error) => {
        assert.equal(error.failures.length, messages.length, name);
        error.failures.forEach((failure, i) => {
          assert.deepEqual([failure.partition, failure.phase], ['vm', 'options'], name);
          assert.match(failure.message, messages[i]!, name);
        });
        assert.equal(error.report, null);
      }),
      name,
    );
  }
});

test('single-thread: run rejects when the simulation goes idle before the work settles', async (t) => {
  const seed = testSeed(t.name);
  const vm = await createVm({ guests: 1, mode: { kind: 'single-thread', seed } });
  await assert.rejects(
    vm.run(vm.waitForEvent('never-emitted')),
    isVmError((error) => assert.match(error.message, new RegExp(`^vm: failed while running: the simulation \\(seed ${seed}\\) is idle`))),
  );
  assertNothingLeft(vm, await vm.stop(), 'in-thread');
});
