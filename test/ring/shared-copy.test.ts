import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { NATIVE_COPY_MIN_BYTES, copyByteRange, copyBytes, nativeCopyLoaded } from '../../src/ring/shared-copy.js';
import { testSeed } from '../support/seed.js';

/** The addon as `src/ring/shared-copy.ts` loads it: the same file, so the same cached exports. */
const ADDON_FILE = fileURLToPath(new URL('../../../native/build/Release/shared_copy.node', import.meta.url));
const addonBuilt = existsSync(ADDON_FILE);
const forcedFallback = process.env['KMCL_NATIVE'] === '0';
const notBuilt = 'native/build/Release/shared_copy.node is not built (npm ci builds it; KMCL_NATIVE=0 skips it)';

interface SharedCopyAddon {
  copy(target: unknown, targetOffset: unknown, source: unknown, sourceOffset?: unknown, length?: unknown): void;
}
const addon = (): SharedCopyAddon => createRequire(import.meta.url)(ADDON_FILE) as SharedCopyAddon;

type Backing = 'plain' | 'shared';
const BACKINGS: readonly Backing[] = ['plain', 'shared'];

/** `length` bytes of a xorshift pattern, viewed `start` bytes into a buffer of `backing`. */
function patterned(backing: Backing, length: number, seed: number, start = 0): Uint8Array {
  const size = start + length;
  const bytes = new Uint8Array(backing === 'shared' ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x;
  }
  return bytes.subarray(start);
}

/** A second buffer of the same backing, contents and view window, for the `set` side. */
function twin(view: Uint8Array): Uint8Array {
  const buffer = view.buffer;
  const copy = buffer instanceof SharedArrayBuffer ? new SharedArrayBuffer(buffer.byteLength) : new ArrayBuffer(buffer.byteLength);
  const whole = new Uint8Array(copy);
  whole.set(new Uint8Array(buffer));
  return whole.subarray(view.byteOffset, view.byteOffset + view.length);
}

/** What a copy did: the target's bytes afterwards, or the class of error it threw. */
function outcome(copy: () => void, target: Uint8Array): string | Uint8Array {
  try {
    copy();
    return new Uint8Array(target.buffer.slice(0)); // the whole buffer: bytes outside the view must not change
  } catch (error) {
    return error instanceof Error ? error.constructor.name : String(error);
  }
}

/** Asserts that `copyBytes` and `set` do the same thing to twin targets from the same source. */
function assertSameAsSet(target: Uint8Array, targetOffset: number, source: Uint8Array, label: string): void {
  const expectedTarget = twin(target);
  const expected = outcome(() => expectedTarget.set(source, targetOffset), expectedTarget);
  const actual = outcome(() => copyBytes(target, targetOffset, source), target);
  assert.deepEqual(actual, expected, label);
}

test('copyByteRange copies a window of its source like set of a subarray, on either side of the native threshold', () => {
  for (const sourceBacking of BACKINGS) {
    for (const targetBacking of BACKINGS) {
      for (const length of [0, 8, NATIVE_COPY_MIN_BYTES - 8, NATIVE_COPY_MIN_BYTES, 16_384]) {
        const source = patterned(sourceBacking, length + 40, length + 7, 3);
        const target = patterned(targetBacking, length + 24, 0x5eed, 1);
        const expectedTarget = twin(target);
        expectedTarget.set(source.subarray(16, 16 + length), 8);
        copyByteRange(target, 8, source, 16, length);
        assert.deepEqual(new Uint8Array(target.buffer.slice(0)), new Uint8Array(expectedTarget.buffer.slice(0)), `${sourceBacking} → ${targetBacking}, ${length} B`);
      }
    }
  }
});

test(`copyBytes uses the ${nativeCopyLoaded ? 'native' : 'JavaScript'} path in this process`, () => {
  if (forcedFallback) assert.equal(nativeCopyLoaded, false, 'KMCL_NATIVE=0 forces the JavaScript path');
  else assert.equal(nativeCopyLoaded, addonBuilt, 'a built addon must load; a missing one means the fallback');
});

test('copyBytes copies like set for every backing pair, size and offset in the table', () => {
  // 16 KiB: a ring packet; 65,536 and 300,001: read-ahead copies of a batch, whole pages and not.
  const lengths = [0, 1, 7, 64, NATIVE_COPY_MIN_BYTES - 1, NATIVE_COPY_MIN_BYTES, NATIVE_COPY_MIN_BYTES + 1, 16_384, 65_536, 300_001];
  for (const sourceBacking of BACKINGS) {
    for (const targetBacking of BACKINGS) {
      for (const length of lengths) {
        for (const [slack, targetOffset] of [[0, 0], [13, 5], [13, 13], [8, 8]] as const) {
          const source = patterned(sourceBacking, length, length + 1, 3);
          const target = patterned(targetBacking, length + slack, 0x5eed, 1);
          assertSameAsSet(target, targetOffset, source, `${sourceBacking} → ${targetBacking}, ${length} B at ${targetOffset}`);
        }
      }
    }
  }
});

test('copyBytes copies like set for random backings, sizes up to 64 KiB, view starts and offsets', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(...BACKINGS),
      fc.constantFrom(...BACKINGS),
      fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 65_536 })),
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 15 }),
      fc.integer(),
      (sourceBacking, targetBacking, length, slack, offsetFromEnd, sourceStart, seed) => {
        const source = patterned(sourceBacking, length, seed, sourceStart);
        const target = patterned(targetBacking, length + slack, ~seed, 7);
        // Mostly in bounds; past the end when offsetFromEnd exceeds the slack.
        const targetOffset = slack - offsetFromEnd;
        assertSameAsSet(target, targetOffset, source, `${length} B at ${targetOffset} into ${length + slack}`);
      },
    ),
    { numRuns: 150, seed: testSeed(t.name) },
  );
});

test('copyBytes copies like set at every distance between source and target modulo 4 KiB', () => {
  // The native copy picks its direction from that distance (false store/load aliasing).
  for (const length of [NATIVE_COPY_MIN_BYTES, 16_384 + 5, 40_000]) {
    const past = Math.ceil(length / 4096) * 4096; // the first page start after the source
    for (let distance = 0; distance <= 72; distance++) {
      const whole = patterned('shared', past + 4096 + length, length + distance);
      assertSameAsSet(whole, past + distance, whole.subarray(0, length), `${length} B, ${distance} B past a page`);
      assertSameAsSet(whole, 0, whole.subarray(past + distance, past + distance + length), `${length} B, back by ${distance}`);
    }
  }
});

test('copyBytes refuses what set refuses, with the same error, and changes nothing', () => {
  const big = NATIVE_COPY_MIN_BYTES * 2;
  const source = patterned('shared', big, 1);
  const cases: [string, Uint8Array, number][] = [
    ['one byte too long', patterned('plain', big - 1, 2), 0],
    ['fits only without the offset', patterned('plain', big, 2), 1],
    ['offset past the end', patterned('shared', big, 2), big + 1],
    ['negative offset', patterned('plain', big, 2), -1],
    ['infinite offset', patterned('plain', big, 2), Infinity],
  ];
  for (const [label, target, targetOffset] of cases) {
    const before = target.slice();
    assert.throws(() => copyBytes(target, targetOffset, source), RangeError, label);
    assert.deepEqual(target, before, `${label}: nothing written`);
    assertSameAsSet(target, targetOffset, source, label);
  }
});

test('copyBytes rounds a fractional or NaN offset the way set does', () => {
  const source = patterned('shared', NATIVE_COPY_MIN_BYTES, 3);
  for (const targetOffset of [0.5, 1.9, NaN, -0.5]) {
    assertSameAsSet(patterned('plain', NATIVE_COPY_MIN_BYTES + 4, 4), targetOffset, source, `offset ${targetOffset}`);
  }
});

test('copyBytes throws set’s TypeError for a detached target', () => {
  const target = patterned('plain', NATIVE_COPY_MIN_BYTES, 5);
  const source = patterned('shared', NATIVE_COPY_MIN_BYTES, 6);
  structuredClone(target.buffer, { transfer: [target.buffer as ArrayBuffer] });
  assert.throws(() => target.set(source), TypeError, 'what set does');
  assert.throws(() => copyBytes(target, 0, source), TypeError);
});

test('copyBytes copies overlapping views of one buffer as if through a temporary', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(...BACKINGS),
      fc.integer({ min: 0, max: 12_000 }),
      fc.integer({ min: 0, max: 12_000 }),
      fc.integer({ min: 0, max: 20_000 }),
      (backing, from, to, wanted) => {
        const whole = patterned(backing, 32_768, from ^ (to << 16));
        const length = Math.min(wanted, whole.length - Math.max(from, to));
        assertSameAsSet(whole, to, whole.subarray(from, from + length), `${length} B from ${from} to ${to}`);
      },
    ),
    { numRuns: 150, seed: testSeed(t.name) },
  );
});

test('copyBytes calls the addon for copies of NATIVE_COPY_MIN_BYTES or more only', { skip: !addonBuilt && notBuilt }, () => {
  const loaded = addon();
  const original = loaded.copy;
  let calls = 0;
  loaded.copy = (...args) => {
    calls++;
    original(...args);
  };
  try {
    const callsFor = (target: Uint8Array, targetOffset: number, source: Uint8Array): number => {
      const before = calls;
      copyBytes(target, targetOffset, source);
      return calls - before;
    };
    const native = forcedFallback ? 0 : 1; // KMCL_NATIVE=0: the addon is built but must never run
    assert.equal(callsFor(patterned('plain', 16_384, 1), 0, patterned('shared', 16_384, 2)), native, 'shared → plain, 16 KiB');
    assert.equal(callsFor(patterned('shared', 16_400, 1), 16, patterned('plain', 16_384, 2)), native, 'plain → shared, 16 KiB');
    const threshold = NATIVE_COPY_MIN_BYTES;
    assert.equal(callsFor(patterned('shared', threshold, 1), 0, patterned('shared', threshold, 2)), native, 'at the threshold');
    assert.equal(callsFor(patterned('shared', threshold, 1), 1, patterned('shared', threshold - 1, 2)), 0, 'under it');
    assert.equal(callsFor(patterned('plain', 16_384, 1), 0, patterned('plain', 16_384, 2)), native, 'plain → plain too');
    assert.equal(callsFor(patterned('plain', 16_384, 1), 0.5, patterned('plain', 16_000, 2)), 0, 'a fractional offset');
    assert.throws(() => callsFor(patterned('plain', 16_383, 1), 0, patterned('shared', 16_384, 2)), RangeError);
    assert.equal(calls, 4 * native, 'a copy that does not fit is left to set');
  } finally {
    loaded.copy = original;
  }
});

test('the addon refuses bad arguments with TypeError or RangeError instead of crashing', { skip: !addonBuilt && notBuilt }, () => {
  const { copy } = addon();
  const bytes = new Uint8Array(new SharedArrayBuffer(64));
  const typeErrors: [string, unknown[]][] = [
    ['an Int16Array target', [new Int16Array(32), 0, bytes, 0, 1]],
    ['a DataView source', [bytes, 0, new DataView(bytes.buffer), 0, 1]],
    ['an ArrayBuffer source', [bytes, 0, new ArrayBuffer(8), 0, 1]],
    ['a plain object', [{ length: 8 }, 0, bytes, 0, 1]],
    ['a string offset', [bytes, '0', bytes, 0, 1]],
    ['a bigint length', [bytes, 0, bytes, 0, 1n]],
    ['two arguments', [bytes, 0]],
    ['four arguments', [bytes, 0, bytes, 0]],
    ['six arguments', [bytes, 0, bytes, 0, 1, 0]],
  ];
  for (const [label, args] of typeErrors) assert.throws(() => copy(...(args as Parameters<typeof copy>)), TypeError, label);
  const rangeErrors: [string, unknown[]][] = [
    ['a negative offset', [bytes, -1, bytes, 0, 1]],
    ['a fractional length', [bytes, 0, bytes, 0, 1.5]],
    ['a NaN source offset', [bytes, 0, bytes, NaN, 1]],
    ['an offset past 2^53', [bytes, 2 ** 60, bytes, 0, 1]],
    ['a length past the target', [bytes, 60, bytes, 0, 5]],
    ['a length past the source', [new Uint8Array(128), 0, bytes, 1, 64]],
    ['an offset plus length that would wrap', [bytes, Number.MAX_SAFE_INTEGER, bytes, 0, Number.MAX_SAFE_INTEGER]],
  ];
  for (const [label, args] of rangeErrors) assert.throws(() => copy(...(args as Parameters<typeof copy>)), RangeError, label);
  const target = new Uint8Array(16);
  copy(target, 4, patterned('shared', 8, 9), 2, 6);
  assert.deepEqual(target.subarray(4, 10), patterned('shared', 8, 9).subarray(2, 8));
  copy(target, 16, bytes, 64, 0); // empty copies at the very end are fine, as with set
  copy(target, 8, patterned('plain', 8, 10)); // three arguments: all of source
  assert.deepEqual(target.subarray(8), patterned('plain', 8, 10));
  assert.throws(() => copy(target, 9, patterned('plain', 8, 10)), RangeError, 'all of source must fit');
});

test('a worker thread loads the addon too and copies through it (the addon is context aware)', async () => {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.moduleUrl).then(({ copyBytes, nativeCopyLoaded }) => {
      const source = new Uint8Array(new SharedArrayBuffer(16384)).fill(7);
      const target = new Uint8Array(16384);
      copyBytes(target, 0, source);
      parentPort.postMessage({ nativeCopyLoaded, copied: target.every((byte) => byte === 7) });
    });`,
    { eval: true, workerData: { moduleUrl: new URL('../../src/ring/shared-copy.js', import.meta.url).href } },
  );
  const [reply] = (await once(worker, 'message')) as [unknown];
  await worker.terminate();
  assert.deepEqual(reply, { nativeCopyLoaded, copied: true });
});

test('the JavaScript fallback passes this file too (KMCL_NATIVE=0, in a child process)', { skip: forcedFallback && 'this is that child' }, async () => {
  const run = promisify(execFile);
  const child = await run(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, KMCL_NATIVE: '0' },
    timeout: 120_000,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    assert.fail(`the child failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
  assert.match(child.stdout, /uses the JavaScript path/);
});
