/**
 * GPADL creation as the `bus` benchmark measures it: the guest bus describes
 * a buffer of guest pages (GPADL_HEADER, then GPADL_BODY messages for the
 * PFNs that do not fit the header), the host bus checks and records it and
 * answers GPADL_CREATED; then the guest tears it down again so the next
 * round starts from the same state. Host and guest run in one thread on a
 * seeded hypervisor, so the time is the CPU both sides spend.
 *
 * One GPADL describes at most 8190 pages (the header's range length is a u16
 * byte count: 8191 u64 values, one of them the range's offset and length),
 * just under 32 MiB; a larger buffer is described by several GPADLs of equal
 * size, created one after another, as a driver has to.
 */
import { GPADL_MAX_VALUES } from '../../src/bus/client/index.js';
import { MemoryError, PAGE_SIZE } from '../../src/memory/index.js';
import { BENCH_INTERFACE, BusMachine } from './bus-machine.js';

/** Pages one single-range GPADL can describe. */
export const GPADL_MAX_PAGES = GPADL_MAX_VALUES - 1;

/** One buffer size and how many times it is described (the figure is the median). */
export interface GpadlCase {
  readonly bytes: number;
  readonly rounds: number;
}

/** Seconds to describe the whole buffer, one sample per round (teardown not included). */
export interface GpadlMeasurement {
  readonly bytes: number;
  /** GPADLs the buffer needs. */
  readonly gpadls: number;
  readonly samplesSeconds: readonly number[];
}

/** The buffer's pages cut into the fewest GPADLs of (nearly) equal size. */
function gpadlPieces(pfns: readonly number[]): number[][] {
  const count = Math.ceil(pfns.length / GPADL_MAX_PAGES);
  const size = Math.ceil(pfns.length / count);
  return Array.from({ length: count }, (_, i) => pfns.slice(i * size, (i + 1) * size));
}

/** The median sample (the lower middle one: a time really observed). */
export function medianSeconds(measurement: GpadlMeasurement): number {
  const sorted = [...measurement.samplesSeconds].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1] ?? 0;
}

/** Unmeasured rounds before the samples (JIT, first-use allocations). */
const WARMUP_ROUNDS = 2;

/** Describes one guest buffer of `bytes` in GPADLs `rounds` times (tearing them down in between), timing each creation. */
export async function measureGpadlCreation({ bytes, rounds }: GpadlCase): Promise<GpadlMeasurement> {
  const pages = Math.ceil(bytes / PAGE_SIZE);
  const machine = new BusMachine(pages + 64);
  const { instanceId } = machine.offer();
  const bus = await machine.connect();
  try {
    const offer = await machine.drive(bus.waitForOffer({ interfaceId: BENCH_INTERFACE, instanceId }));
    const pfns = machine.allocator.allocate(pages);
    if (pfns instanceof MemoryError) throw pfns;
    const pieces = gpadlPieces(pfns).map((piece) => [{ byteOffset: 0, byteCount: piece.length * PAGE_SIZE, pfns: piece }]);
    const describe = async (): Promise<number[]> => {
      const ids: number[] = [];
      for (const ranges of pieces) ids.push(await bus.createGpadl(offer.channelId, ranges));
      return ids;
    };
    const samplesSeconds: number[] = [];
    for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
      const start = process.hrtime.bigint();
      const gpadlIds = await machine.drive(describe());
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (round >= WARMUP_ROUNDS) samplesSeconds.push(seconds);
      await machine.drive(Promise.all(gpadlIds.map((id) => bus.teardownGpadl(offer.channelId, id))));
    }
    machine.allocator.free(pfns);
    await machine.drive(bus.unload());
    return { bytes, gpadls: pieces.length, samplesSeconds };
  } finally {
    machine.hostBus.close();
  }
}
