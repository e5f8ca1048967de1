/**
 * The demo leaves nothing behind: once `runDemo` resolves, the host devices'
 * periodic ticks and request timeouts are cancelled, so no timer of this
 * thread holds the process open after the summary (workers mode: real time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDemo, type DemoEvent } from '../../src/demo/index.js';

/** Refed timers of this thread: what keeps the process alive. */
const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

test('workers mode: after the summary no timer is left scheduled, whatever the devices\' intervals', async () => {
  const before = timers();
  const events: DemoEvent['event'][] = [];
  // Intervals far longer than the run: every device stops with its next tick still ahead.
  const summary = await runDemo({
    mode: { kind: 'workers' },
    durationMs: 200,
    heartbeatIntervalMs: 60_000,
    timeSyncIntervalMs: 60_000,
    onEvent: (event) => events.push(event.event),
  });
  assert.equal(summary.errors, 0);
  assert.equal(events.at(-1), 'summary');
  // The host partition's listener lets go of its keep-alive once its last wait returns, a turn or two later.
  for (let turn = 0; turn < 100 && timers() > before; turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(timers(), before);
});
