/**
 * A thread that schedules on a ThreadScheduler and cancels: an hour-long
 * timer and an immediate cancelled at once (twice: cancel is idempotent), and
 * a short timer cancelled after it ran. It posts what ran, then has nothing
 * left to do: it exits by itself unless a cancelled timer still holds it.
 */
import { parentPort } from 'node:worker_threads';
import { ThreadScheduler } from '../../src/hv/thread-scheduler.js';

const HOUR = 36_000_000_000;
const scheduler = new ThreadScheduler(new Int32Array(new SharedArrayBuffer(4)), 0);
const ran: string[] = [];
const cancelHour = scheduler.schedule(() => ran.push('hour'), HOUR);
cancelHour();
cancelHour();
scheduler.schedule(() => ran.push('immediate'), 0)();
const cancelShort = scheduler.schedule(() => ran.push('1 ms'), 10_000);
scheduler.schedule(() => {
  cancelShort();
  parentPort!.postMessage(ran);
}, 200_000);
