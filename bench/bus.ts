/**
 * `bus`: the cost of the control plane end to end, host and guest partitions
 * in one thread on a seeded hypervisor (virtual time, so only CPU is counted):
 * - channel setup rate: offer + ring GPADL + open + close (+ rescind and id
 *   release, so the cycle can repeat), one at a time and 64 at a time;
 * - memory per open channel: JS heap held by both buses for each open channel
 *   (the guest's ring pages come on top, in guest memory);
 * - 2047 channels open at once on one guest, the most VMBus channel ids allow;
 * - GPADL creation for a 1 MiB and a 64 MiB guest buffer (bench/bus/gpadl-creation.ts).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { GuestBus, GuestOpenChannel } from '../src/bus/index.js';
import { PAGE_SIZE } from '../src/memory/index.js';
import { BENCH_INTERFACE, BusMachine, MAX_CHANNELS, RING_PAGES } from './bus/bus-machine.js';
import { measureGpadlCreation, medianSeconds, type GpadlCase, type GpadlMeasurement } from './bus/gpadl-creation.js';
import type { BenchResult } from './harness/bench-result.js';
import { formatCount, formatDecimal } from './harness/number-format.js';
import type { SubBenchmark } from './harness/sub-benchmark.js';

const SEQUENTIAL_CYCLES = 400;
const CONCURRENT_BATCHES = 8;
const BATCH = 64;
const WARMUP_CYCLES = 50;
/** Rounds per buffer size: enough for a steady median, a second or so in all. */
const GPADL_CASES: readonly GpadlCase[] = [
  { bytes: 1024 * 1024, rounds: 50 },
  { bytes: 64 * 1024 * 1024, rounds: 9 },
];

/** 1MiB, 64MiB: the buffer size in result names. */
function mebibytes(bytes: number): string {
  return `${bytes / (1024 * 1024)}MiB`;
}

function gpadlResults(measurement: GpadlMeasurement): BenchResult[] {
  const seconds = medianSeconds(measurement);
  const name = `bus.gpadl.${mebibytes(measurement.bytes)}`;
  return [
    { name, unit: 'ms', value: seconds * 1000 },
    { name, unit: 'MB/s', value: seconds > 0 ? measurement.bytes / seconds / 1e6 : 0 },
  ];
}

function gpadlRows(measurement: GpadlMeasurement): string[][] {
  const seconds = medianSeconds(measurement);
  const pieces = measurement.gpadls === 1 ? '1 GPADL' : `${measurement.gpadls} GPADLs`;
  return [
    [`GPADL creation, ${mebibytes(measurement.bytes).replace('MiB', ' MiB')} buffer (${pieces}, median of ${measurement.samplesSeconds.length})`, `${formatDecimal(seconds * 1000, 2)} ms`],
    ['  memory described per second', `${formatCount(seconds > 0 ? measurement.bytes / seconds / 1e6 : 0)} MB/s`],
  ];
}

/** One full channel life, from the guest's and the host's side at once. */
async function setupCycle(machine: BusMachine, bus: GuestBus): Promise<void> {
  const { handle, instanceId } = machine.offer();
  const guestOffer = await bus.waitForOffer({ interfaceId: BENCH_INTERFACE, instanceId });
  const channel = await bus.openChannel(guestOffer.channelId, { outgoingRingPages: RING_PAGES, incomingRingPages: RING_PAGES });
  await channel.close();
  const rescinded = handle.rescind();
  await waitRescind(bus, guestOffer.channelId);
  bus.releaseId(guestOffer.channelId);
  await rescinded;
}

function waitRescind(bus: GuestBus, channelId: number): Promise<void> {
  return new Promise((resolve) => {
    const stop = bus.onRescind(channelId, () => {
      stop();
      resolve();
    });
  });
}

/**
 * `batches` rounds of `width` concurrent setup cycles: cycles per wall-clock
 * second, and CPU time per cycle (steadier on a loaded machine).
 */
async function setupRate(
  machine: BusMachine,
  bus: GuestBus,
  batches: number,
  width: number,
): Promise<{ readonly perSecond: number; readonly cpuMicroseconds: number }> {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let b = 0; b < batches; b++) {
    await machine.drive(Promise.all(Array.from({ length: width }, () => setupCycle(machine, bus))));
  }
  const cpu = process.cpuUsage(cpuStart);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cycles = batches * width;
  return { perSecond: cycles / seconds, cpuMicroseconds: (cpu.user + cpu.system) / cycles };
}

function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Memory use once collection has settled: an array buffer's backing store is
 * released some time after the GC that finds it dead (the 64 MiB GPADL run just
 * before leaves tens of MB of them), so one `gc()` and a sample can count
 * memory that is about to go; collect until `arrayBuffers` stops falling.
 */
async function settledMemory(gc: () => void): Promise<NodeJS.MemoryUsage> {
  let usage = process.memoryUsage();
  for (let round = 0; round < 10; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const next = process.memoryUsage();
    const settled = next.arrayBuffers >= usage.arrayBuffers;
    usage = next;
    if (settled && round > 0) break;
  }
  return usage;
}

async function openAll(machine: BusMachine, bus: GuestBus): Promise<GuestOpenChannel[]> {
  const channels: GuestOpenChannel[] = [];
  const ids = bus.offers().map((offer) => offer.channelId);
  for (let at = 0; at < ids.length; at += BATCH) {
    const rings = { outgoingRingPages: RING_PAGES, incomingRingPages: RING_PAGES };
    const batch = ids.slice(at, at + BATCH).map((id) => bus.openChannel(id, rings));
    channels.push(...(await machine.drive(Promise.all(batch))));
  }
  return channels;
}

export const busSuite: SubBenchmark = {
  name: 'bus',
  description: 'VMBus control plane, host and guest in one thread: channel setup rate, GPADL creation, memory per channel, 2047 channels',
  async run(context) {
    context.progress.begin(4 + GPADL_CASES.length);
    const gc = collectGarbage();

    const rateMachine = new BusMachine();
    const rateBus = await rateMachine.connect();
    await setupRate(rateMachine, rateBus, WARMUP_CYCLES, 1);
    const sequential = await setupRate(rateMachine, rateBus, SEQUENTIAL_CYCLES, 1);
    context.progress.step('setup, one at a time');
    const concurrent = await setupRate(rateMachine, rateBus, CONCURRENT_BATCHES, BATCH);
    context.progress.step(`setup, ${BATCH} at a time`);
    await rateMachine.drive(rateBus.unload());

    const gpadls: GpadlMeasurement[] = [];
    for (const gpadlCase of GPADL_CASES) {
      gpadls.push(await measureGpadlCreation(gpadlCase));
      context.progress.step(`GPADL of ${mebibytes(gpadlCase.bytes)}`);
    }

    const machine = new BusMachine();
    for (let i = 0; i < MAX_CHANNELS; i++) machine.offer();
    const bus = await machine.connect();
    if (bus.offers().length !== MAX_CHANNELS) throw new Error(`the guest saw ${bus.offers().length} offers, not ${MAX_CHANNELS}`);
    const before = await settledMemory(gc);
    const openStart = process.hrtime.bigint();
    const channels = await openAll(machine, bus);
    const openSeconds = Number(process.hrtime.bigint() - openStart) / 1e9;
    const after = await settledMemory(gc);
    const heapPerChannel = (after.heapUsed - before.heapUsed) / channels.length;
    // Ring readers keep a private packet copy buffer outside the JS heap.
    const buffersPerChannel = (after.arrayBuffers - before.arrayBuffers) / channels.length;
    if (channels.length !== MAX_CHANNELS || machine.hostBus.snapshot().table.gpadls !== MAX_CHANNELS) {
      throw new Error(`${channels.length} channels opened, ${machine.hostBus.snapshot().table.gpadls} ring GPADLs`);
    }
    context.progress.step(`${MAX_CHANNELS} channels open`);
    await machine.drive(Promise.all(channels.map((channel) => channel.close())));
    await machine.drive(bus.unload());
    const leftover = machine.allocator.allocatedPageCount;
    if (leftover !== 0) throw new Error(`${leftover} guest pages still allocated after unload`);
    context.progress.step('closed and unloaded');
    machine.hostBus.close();
    rateMachine.hostBus.close();

    const ringBytes = 2 * RING_PAGES * PAGE_SIZE;
    const results: BenchResult[] = [
      { name: 'bus.setup.sequential', unit: 'channels/s', value: sequential.perSecond },
      { name: 'bus.setup.sequential.cpu', unit: 'µs/channel', value: sequential.cpuMicroseconds },
      { name: `bus.setup.concurrent${BATCH}`, unit: 'channels/s', value: concurrent.perSecond },
      { name: `bus.setup.concurrent${BATCH}.cpu`, unit: 'µs/channel', value: concurrent.cpuMicroseconds },
      { name: 'bus.memory.heapPerOpenChannel', unit: 'bytes', value: heapPerChannel },
      { name: 'bus.memory.buffersPerOpenChannel', unit: 'bytes', value: buffersPerChannel },
      { name: 'bus.memory.ringPerOpenChannel', unit: 'bytes', value: ringBytes },
      { name: 'bus.open2047.seconds', unit: 's', value: openSeconds },
      ...gpadls.flatMap(gpadlResults),
    ];
    return {
      results,
      tables: [
        {
          title: 'bus: control plane, host and guest buses on a seeded hypervisor in one thread (CPU of both sides)',
          columns: [
            { header: 'figure', align: 'left' },
            { header: 'value', align: 'right' },
          ],
          rows: [
            ['setup, one at a time', `${formatCount(sequential.perSecond)} channels/s`],
            ['  CPU per setup', `${formatCount(sequential.cpuMicroseconds)} µs`],
            [`setup, ${BATCH} at a time`, `${formatCount(concurrent.perSecond)} channels/s`],
            ['  CPU per setup', `${formatCount(concurrent.cpuMicroseconds)} µs`],
            ...gpadls.flatMap(gpadlRows),
            ['JS heap per open channel (host + guest)', `${formatCount(heapPerChannel)} B`],
            ['array buffers per open channel (ring copy buffers)', `${formatCount(buffersPerChannel)} B`],
            [`guest ring pages per open channel (${RING_PAGES}+${RING_PAGES} pages)`, `${formatCount(ringBytes)} B`],
            [`${MAX_CHANNELS} channels opened (${BATCH} at a time)`, `${formatDecimal(openSeconds, 2)} s`],
          ],
        },
      ],
      notes: [
        'setup = offer + ring GPADL + open + close + rescind + release. GPADL creation = GPADL_HEADER + GPADL_BODY messages until GPADL_CREATED; ' +
          'one GPADL describes at most 8190 pages (a u16 range length), so a 64 MiB buffer takes several.',
      ],
    };
  },
};
