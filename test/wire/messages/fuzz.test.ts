import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MESSAGE_TABLE, decodeMessage, encodeMessage, variantOfKind } from '../../../src/wire/messages/index.js';
import type { ChannelMessage, DecodeContext, FieldSpec, MessageSpec } from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';
import { testSeed } from '../../support/seed.js';

// Message sizes: at most 240 bytes incl. the 8-byte header (openvmm-vmbus.md §6.1).
const MAX_MESSAGE_SIZE = 240;

const contexts: fc.Arbitrary<DecodeContext | undefined> = fc.option(
  fc.record({
    receiver: fc.constantFrom('host' as const, 'guest' as const),
    version: fc.option(fc.integer({ min: 0, max: 0xffff_ffff }), { nil: null }),
    features: fc.integer({ min: 0, max: 0xffff_ffff }),
  }),
  { nil: undefined },
);

test('random bytes of length 0..300 never make decodeMessage throw', () => {
  const seed = testSeed('random bytes never make decodeMessage throw');
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), contexts, (bytes, ctx) => {
      const r = decodeMessage(bytes, ctx);
      assert.ok(r instanceof WireError || typeof r.kind === 'string');
    }),
    { seed, numRuns: 5000 },
  );
});

/** Random bytes that start with a type number near the defined ones, so most reach the field decoder. */
const messageLike = fc
  .tuple(fc.integer({ min: 0, max: 31 }), fc.uint8Array({ minLength: 8, maxLength: MAX_MESSAGE_SIZE }))
  .map(([type, bytes]) => {
    new DataView(bytes.buffer).setUint32(0, type, true);
    return bytes;
  });

/** What encode must give back for accepted bytes: the variant's bytes, header and padding zeroed. */
function expectedReencoding(bytes: Uint8Array, decoded: ChannelMessage): Uint8Array {
  const { variant } = variantOfKind(decoded.kind)!;
  const trailing = variant.fields.find((f) => f.kind === 'u64-array');
  // A trailing u64 array keeps its whole u64s; a partial last one is dropped (channels.rs:1232-1237).
  const end = trailing === undefined ? variant.size : trailing.offset + Math.floor((bytes.length - trailing.offset) / 8) * 8;
  const out = bytes.slice(0, end);
  out.fill(0, 4, 8); // header padding u32 @4 (protocol.rs:132-137)
  for (const f of variant.fields) if (f.kind === 'pad') out.fill(0, f.offset, f.offset + f.length);
  return out;
}

test('any bytes decodeMessage accepts encode back to the same bytes (padding zeroed, ignored tail dropped)', () => {
  const seed = testSeed('accepted bytes re-encode to the same bytes');
  fc.assert(
    fc.property(messageLike, contexts, (bytes, ctx) => {
      const decoded = decodeMessage(bytes, ctx);
      if (decoded instanceof WireError) return;
      assert.deepEqual(encodeMessage(decoded), expectedReencoding(bytes, decoded));
    }),
    { seed, numRuns: 5000 },
  );
});

/** An arbitrary value for one field, from its table kind. */
function fieldArbitrary(f: FieldSpec, fixedSize: number): fc.Arbitrary<unknown> {
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  switch (f.kind) {
    case 'u8':
      return fc.integer({ min: 0, max: 0xff });
    case 'u16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'u32':
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case 'u64':
      return u64;
    case 'guid':
      return fc.uuid();
    case 'bytes':
    case 'pad':
      return fc.uint8Array({ minLength: f.length, maxLength: f.length });
    case 'u64-array':
      return fc.array(u64, { maxLength: Math.floor((MAX_MESSAGE_SIZE - fixedSize) / 8) });
  }
}

/** Every variant of the table as an arbitrary message, built from its field list. */
const anyMessage: fc.Arbitrary<ChannelMessage> = fc.oneof(
  ...(MESSAGE_TABLE as readonly MessageSpec[]).flatMap((spec) =>
    spec.variants.map((v) =>
      fc.record(
        Object.fromEntries([
          ['kind', fc.constant(v.kind)],
          ...v.fields.filter((f) => f.kind !== 'pad').map((f) => [f.name, fieldArbitrary(f, v.size)]),
        ]) as Record<string, fc.Arbitrary<unknown>>,
      ) as unknown as fc.Arbitrary<ChannelMessage>,
    ),
  ),
);

test('every valid message of every variant encodes and decodes back to itself', () => {
  const seed = testSeed('every valid message round-trips');
  fc.assert(
    fc.property(anyMessage, (msg) => {
      const bytes = encodeMessage(msg);
      assert.ok(bytes instanceof Uint8Array, String(bytes));
      assert.ok(bytes.length <= MAX_MESSAGE_SIZE);
      assert.deepEqual(decodeMessage(bytes), { ...msg }); // fc.record objects have no prototype
      assert.deepEqual(encodeMessage(decodeMessage(bytes) as ChannelMessage), bytes);
    }),
    { seed, numRuns: 3000 },
  );
});
