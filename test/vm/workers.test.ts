/**
 * createVm in workers mode: the host in this thread, each guest partition in
 * its own worker thread sharing the hypervisor and its memory through
 * SharedArrayBuffers; the same guest module files as in single-thread mode.
 * Errors in a guest's thread reach the caller with the guest's name and the
 * stack from that thread; stop ends every worker and leaves nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { RecordingTrace } from '../../src/trace/index.js';
import { VMBUS_VERSION } from '../../src/wire/messages/index.js';
import { NTSTATUS } from '../../src/wire/ntstatus.js';
import { VmError, createVm } from '../../src/vm/index.js';
import type { EchoDone } from './echo-guest.js';
import { echoVsp, type EchoVsp } from './echo-vsp.js';
import { CRASH_TRIGGER } from './faulty-guest.js';
import { GUEST_BUS_RELEASED, assertNothingLeft } from './leaks.js';

const ECHO_GUEST = new URL('./echo-guest.js', import.meta.url);
const FAULTY_GUEST = new URL('./faulty-guest.js', import.meta.url);
const TIMEOUT = { timeout: 60_000 };

function isVmError(check: (error: VmError) => void): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof VmError, `a VmError, got ${String(error)}`);
    check(error);
    return true;
  };
}

/** This process's active handles and requests by type, for "close leaves nothing behind". */
async function activeResources(): Promise<string[]> {
  await nextTurn();
  return process.getActiveResourcesInfo().sort();
}

/**
 * The active resources once they are back to `expected`, or as they are after
 * a few turns: the host thread's hypervisor listener ends on the turn after
 * `Hypervisor.close` wakes it (src/hv/thread-scheduler.ts), with its keep-alive timer.
 */
async function settledResources(expected: readonly string[]): Promise<string[]> {
  let now = await activeResources();
  for (let turn = 0; turn < 10 && now.join() !== expected.join(); turn++) now = await activeResources();
  return now;
}

test('workers: two guests at once each run a KMCL driver against the host VSP; stop ends both workers and leaves nothing', TIMEOUT, async () => {
  const before = await activeResources();
  const devices = new Map<string, EchoVsp>();
  const trace = new RecordingTrace();
  const vm = await createVm({
    guests: [
      { name: 'left', memoryPages: 256, data: { packets: 150 } },
      { name: 'right', memoryPages: 768, vpCount: 4, data: { packets: 90 } },
    ],
    mode: { kind: 'workers' },
    host: echoVsp(devices),
    guest: ECHO_GUEST,
    trace,
  });
  assert.equal(vm.mode, 'workers');
  assert.equal(vm.simulation, null);
  assert.equal(vm.liveWorkers, 2);
  const [left, right] = await vm.run(Promise.all([vm.waitForEvent('echo-done', 'left'), vm.waitForEvent('echo-done', 'right')]));
  assert.deepEqual(left!.detail as EchoDone, { completions: 150, mismatches: 0, version: VMBUS_VERSION.Copper });
  assert.deepEqual(right!.detail as EchoDone, { completions: 90, mismatches: 0, version: VMBUS_VERSION.Copper });
  assert.equal(devices.get('left')!.echoed, 150);
  assert.equal(devices.get('right')!.echoed, 90);

  const report = await vm.stop();
  assertNothingLeft(vm, report, 'clean');
  assert.deepEqual(
    vm.events.filter((event) => event.kind === 'echo-torn-down').map((event) => [event.guest, event.detail]).sort(),
    [['left', { references: 0 }], ['right', { references: 0 }]],
  );
  // The guests' own bus events crossed the VM worker process channel, tagged with their partition.
  for (const name of ['left', 'right']) {
    assert.ok(
      trace.events.some((event) => event.source === 'guest-bus' && event.detail?.['vmGuest'] === name),
      `guest-bus events of ${name}`,
    );
  }
  assert.deepEqual(await settledResources(before), before, 'no handle, timer or request of the VM is left in this thread');
});

test('workers: a guest module that throws at start rejects createVm with the guest name and the stack from its worker', TIMEOUT, async () => {
  await assert.rejects(
    createVm({
      guests: [
        { name: 'fine', module: ECHO_GUEST, data: { packets: 5 } },
        { name: 'broken', module: FAULTY_GUEST, data: { fault: 'start' } },
      ],
      mode: { kind: 'workers' },
      host: echoVsp(new Map()),
    }),
    isVmError((error) => {
      assert.equal(error.failures.length, 1);
      const [failure] = error.failures;
      assert.deepEqual([failure!.partition, failure!.phase, failure!.message], ['broken', 'guest-start', 'Error: driver init failed in broken']);
      assert.match(failure!.stack!, /faulty-guest\.js/);
      assert.match(error.stack!, /--- broken \(guest-start\) ---/, 'the error\'s stack carries the worker\'s');
      assert.ok(error.report !== null);
      assert.equal(error.report.liveWorkers, 0);
      assert.deepEqual(error.report.failures, []);
      assert.deepEqual(error.report.guests.map((g) => [g.name, g.exit, g.bus]), [
        ['fine', 'clean', GUEST_BUS_RELEASED],
        ['broken', 'clean', GUEST_BUS_RELEASED],
      ]);
    }),
  );
});

test('workers: a guest thread that crashes after boot fails run with its name; stop reports it and releases the rest', TIMEOUT, async () => {
  const vm = await createVm({
    guests: [{ name: 'steady', module: ECHO_GUEST, data: { packets: 4 } }, { name: 'doomed', module: FAULTY_GUEST, data: { fault: 'crash' } }],
    mode: { kind: 'workers', stopTimeoutMs: 1000 },
    host: echoVsp(new Map()),
  });
  vm.guest('doomed').hostBus.offerChannel({ interfaceId: CRASH_TRIGGER, instanceId: CRASH_TRIGGER }, { open: () => NTSTATUS.STATUS_SUCCESS, close: () => undefined });
  await assert.rejects(
    vm.run(new Promise(() => undefined)),
    isVmError((error) => {
      assert.deepEqual([error.failures[0]!.partition, error.failures[0]!.phase], ['doomed', 'run']);
      assert.match(error.message, /^guest "doomed": failed while running: its worker thread crashed: Error: driver crashed in doomed/);
    }),
  );
  assert.equal(vm.faults.length, 1);
  await assert.rejects(
    vm.stop(),
    isVmError((error) => {
      // The echo VSP's teardown rescinds its offer and waits for the guest to release it, which a dead guest never does.
      assert.deepEqual(
        error.failures.map((f) => [f.partition, f.phase, f.message.replace(/:.*/s, '')]),
        [
          ['doomed', 'run', 'its worker thread crashed'],
          ['host', 'host-teardown', 'for guest "doomed"'],
        ],
      );
      assert.equal(error.failures[1]!.message, 'for guest "doomed": it did not finish within 1000 ms');
      const report = error.report!;
      assert.equal(report.liveWorkers, 0);
      assert.deepEqual(report.guests.map((g) => [g.name, g.exit, g.pagesAllocated]), [
        ['steady', 'clean', 0],
        ['doomed', 'crashed', null],
      ]);
      assert.deepEqual(report.host.map((h) => [h.guest, h.resources.guestPorts, h.resources.messagePorts]), [
        ['steady', 0, 0],
        ['doomed', 0, 0],
      ]);
    }),
  );
});

test('workers: a worker its module keeps alive is terminated after the stop timeout, and stop says so', TIMEOUT, async () => {
  const vm = await createVm({
    guests: [{ name: 'sticky', data: { fault: 'linger' } }],
    mode: { kind: 'workers', stopTimeoutMs: 300 },
    guest: FAULTY_GUEST,
  });
  await assert.rejects(
    vm.stop(),
    isVmError((error) => {
      assert.deepEqual(error.failures.map((f) => [f.partition, f.phase]), [['sticky', 'exit']]);
      assert.match(error.message, /^guest "sticky": its worker did not exit cleanly: its worker was still running 300 ms after the guest stopped .* it was terminated$/);
      const [guest] = error.report!.guests;
      assert.deepEqual([guest!.exit, guest!.bus, guest!.pagesAllocated], ['terminated', GUEST_BUS_RELEASED, 0], 'the guest itself stopped cleanly');
      assert.equal(error.report!.liveWorkers, 0);
    }),
  );
  assert.equal(vm.liveWorkers, 0);
});

test('workers: a guest teardown that throws reaches stop with the guest name, and the worker still exits by itself', TIMEOUT, async () => {
  const vm = await createVm({ guests: [{ name: 'unloader', data: { fault: 'teardown' } }], mode: { kind: 'workers' }, guest: FAULTY_GUEST });
  await assert.rejects(
    vm.stop(),
    isVmError((error) => {
      assert.deepEqual(error.failures.map((f) => [f.partition, f.phase, f.message]), [['unloader', 'guest-teardown', 'Error: driver unload failed in unloader']]);
      assert.match(error.failures[0]!.stack!, /faulty-guest\.js/);
      assertNothingLeft(vm, { ...error.report!, failures: [] }, 'clean');
    }),
  );
});
