/**
 * The VSP/VSC example (examples/vsp-vsc/), built and run: the server-table
 * calculator VSP and the client-table VSC, in one seeded thread and with the
 * guest in a worker. Checks the answers the guest received, what the VSP saw
 * (its state changes through the guest's close and its own rescind), that
 * the VM stopped with nothing left, and the protocol's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NTSTATUS } from '../../src/index.js';
import { SYNC_TEXT, TEXT } from '../../examples/vsp-vsc/guest-vsc.js';
import { OP, STATUS, answer, decodeRequest, decodeResponse, encodeAdd, encodeUppercase } from '../../examples/vsp-vsc/protocol.js';
import { runVspVscExample, type ExampleMode } from '../../examples/vsp-vsc/run-example.js';
import { testSeed } from '../support/seed.js';
import { assertNothingLeft } from '../vm/leaks.js';

for (const mode of ['single-thread', 'workers'] as const satisfies readonly ExampleMode[]) {
  test(`the VSP/VSC example, ${mode}: every request answered, nothing left behind`, { timeout: 60_000 }, async (t) => {
    const run = await runVspVscExample(mode, mode === 'single-thread' ? testSeed(t.name) : undefined);
    // The guest's answers: 1+2+3+4, 0xffffffff+2 wrapped modulo 2^32, the empty sum, and both upper-cased texts.
    assert.deepEqual(run.guest, {
      sums: [10, 1, 0],
      upper: TEXT.toUpperCase(),
      syncUpper: SYNC_TEXT.toUpperCase(),
      malformedStatus: STATUS.BAD_REQUEST,
      mismatches: 0,
    });
    assert.equal(TEXT.toUpperCase(), 'HELLO, VMBUS!');
    // The VSP answered five well-formed requests, refused one, saw the guest's close, and its rescind completed.
    assert.deepEqual(run.host, {
      events: ['opened', 'started', 'post-started', 'suspend', 'closed'],
      answered: 5,
      refused: 1,
      disableStatus: NTSTATUS.STATUS_SUCCESS,
    });
    assertNothingLeft(run.vm, run.stop, mode === 'workers' ? 'clean' : 'in-thread');
  });
}

test('protocol: requests are [op, count] little-endian u32 then the operands', () => {
  assert.deepEqual([...encodeAdd([1, 0xdeadbeef])], [1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde]);
  assert.deepEqual([...encodeUppercase('aZ')], [2, 0, 0, 0, 2, 0, 0, 0, 0x61, 0x5a]);
  // Responses: [status, count] then the answer.
  assert.deepEqual([...answer(decodeRequest(encodeAdd([5, 6]), 16))], [0, 0, 0, 0, 4, 0, 0, 0, 11, 0, 0, 0]);
  assert.deepEqual([...answer(decodeRequest(encodeUppercase('a{`z'), 12))], [0, 0, 0, 0, 4, 0, 0, 0, 0x41, 0x7b, 0x60, 0x5a]);
  assert.deepEqual([...answer(null)], [1, 0, 0, 0, 0, 0, 0, 0]);
});

test('protocol: up to 7 bytes of ring padding after the operands or the answer are ignored', () => {
  // linux-vmbus.md §A.1.2: a packet's payload is padded to a multiple of 8 bytes.
  const padded = new Uint8Array(16);
  padded.set(encodeUppercase('abc'));
  assert.deepEqual(decodeRequest(padded, 16), { op: OP.UPPERCASE, text: new TextEncoder().encode('abc') });
  const response = new Uint8Array(16);
  response.set(answer(decodeRequest(padded, 16)));
  assert.deepEqual(decodeResponse(response, 16), { status: STATUS.OK, body: new TextEncoder().encode('ABC') });
  // [OK, count 3] and 16 more bytes: 13 past the answer, more than padding.
  assert.equal(decodeResponse(new Uint8Array([0, 0, 0, 0, 3, 0, 0, 0, ...new Uint8Array(16)]), 24), null);
});

test('protocol: malformed requests decode to null', () => {
  const cases: [string, Uint8Array, number][] = [
    ['shorter than the header', new Uint8Array([1, 0, 0, 0]), 4],
    ['unknown op', new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0]), 8],
    ['ADD count larger than the body', encodeAdd([1, 2]).subarray(0, 12), 12],
    ['ADD body a partial word short', new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]), 15],
    ['UPPERCASE count beyond the bytes', encodeUppercase('abc'), 10],
    ['more than 7 bytes past the operands', new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]), 16],
    ['length beyond the buffer', encodeAdd([1]).subarray(0, 8), 12],
    ['huge count', new Uint8Array([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), 8],
  ];
  for (const [name, bytes, length] of cases) assert.equal(decodeRequest(bytes, length), null, name);
});
