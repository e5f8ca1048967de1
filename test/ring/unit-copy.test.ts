import assert from 'node:assert/strict';
import { test } from 'node:test';

import { copyUnitRun } from '../../src/ring/unit-copy.js';

test('copyUnitRun copies exactly count units, every count 0..40 at odd offsets, and nothing around them', () => {
  const source = BigInt64Array.from({ length: 64 }, (_, i) => BigInt.asIntN(64, 0x0102_0304_0506_0708n * BigInt(i + 1)));
  // The extremes of a unit: each must arrive bit for bit (no number conversion on the way).
  source[3] = -1n;
  source[4] = -(2n ** 63n);
  source[5] = 2n ** 63n - 1n;
  for (let count = 0; count <= 40; count++) {
    const target = new BigInt64Array(64).fill(0x55n);
    copyUnitRun(source, 3, count, target, 7);
    for (let i = 0; i < 64; i++) {
      const expected = i >= 7 && i < 7 + count ? source[3 + i - 7] : 0x55n;
      assert.equal(target[i], expected, `count ${count}, unit ${i}`);
    }
  }
});

test('copyUnitRun copies out of and into SharedArrayBuffer views alike', () => {
  const shared = new BigInt64Array(new SharedArrayBuffer(8 * 16)).map((_, i) => BigInt(i) - 8n);
  const plain = new BigInt64Array(16);
  copyUnitRun(shared, 0, 16, plain, 0);
  assert.deepEqual(Array.from(plain), Array.from(shared));
  const back = new BigInt64Array(new SharedArrayBuffer(8 * 16));
  copyUnitRun(plain, 2, 11, back, 5);
  assert.deepEqual(Array.from(back.subarray(5, 16)), Array.from(plain.subarray(2, 13)));
});
