import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePacket, encodePacket, type Packet, type PacketInit } from '../../src/wire/packet.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { gpaRangePageCount } from '../../src/wire/gpa-range.js';
import { WireError, type WireErrorCode } from '../../src/wire/wire-error.js';
import { testSeed } from '../support/seed.js';
import { hex, zeros } from './messages/hex.js';

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Each golden packet: the object, its bytes, and where each layout fact comes from. */
const GOLDEN: { name: string; packet: Packet; bytes: Uint8Array }[] = [
  {
    // In-band: descriptor only, payload padded to 8 (hyperv.h:347-353; channel.c:1024-1052 sets offset8 = 2).
    name: 'in-band with completion requested',
    packet: {
      packetType: PACKET_TYPE.VM_PKT_DATA_INBAND,
      dataOffset8: 2,
      length8: 3,
      flags: 1,
      transactionId: 42n,
      extraHeader: new Uint8Array(0),
      payload: hex('68656c6c6f000000'),
    },
    bytes: hex(`
      0600 0200 0300 0100   # type 6, dataOffset8 2, length8 3, flags COMPLETION_REQUESTED
      2a00000000000000      # transactionId 42
      68656c6c6f 000000     # "hello" + 3 bytes of padding
    `),
  },
  {
    // Completion: type 0xB, transaction id echoes the request (hyperv.h:462-477, lib.rs:386-392).
    name: 'completion',
    packet: {
      packetType: PACKET_TYPE.VM_PKT_COMP,
      dataOffset8: 2,
      length8: 3,
      flags: 0,
      transactionId: 0xffff_ffff_ffff_fffen,
      extraHeader: new Uint8Array(0),
      payload: hex('0100000000000000'),
    },
    bytes: hex(`
      0b00 0200 0300 0000   # type 0xB, dataOffset8 2, length8 3, no flags
      feffffffffffffff      # transactionId 2^64 - 2
      0100000000000000      # payload
    `),
  },
  {
    // Transfer pages: set id u16 @16, reserved u16 @18, rangeCount u32 @20, ranges @24 (lib.rs:163-176; hyperv.h:365-372).
    name: 'transfer pages with two ranges',
    packet: {
      packetType: PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES,
      dataOffset8: 5,
      length8: 6,
      flags: 1,
      transactionId: 7n,
      transferPageSetId: 0xcafe,
      reserved: 0,
      ranges: [
        { byteCount: 0x5ea, byteOffset: 0 },
        { byteCount: 0x100, byteOffset: 0x6c0 },
      ],
      extraHeader: new Uint8Array(0),
      payload: hex('0102030405060708'),
    },
    bytes: hex(`
      0700 0500 0600 0100   # type 7, dataOffset8 5 (16 + 8 + 2*8 = 40), length8 6, flags 1
      0700000000000000      # transactionId 7
      feca 0000 02000000    # transferPageSetId 0xcafe (netvsc, hyperv_net.h:874), reserved, rangeCount 2
      ea050000 00000000     # range 0: byteCount 0x5ea, byteOffset 0
      00010000 c0060000     # range 1: byteCount 0x100, byteOffset 0x6c0
      0102030405060708      # payload
    `),
  },
  {
    // GPA direct: reserved u32 @16, rangeCount u32 @20, gpa_range[] @24 (lib.rs:181-184; hyperv.h:421-430).
    name: 'GPA direct with two multi-page ranges',
    packet: {
      packetType: PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT,
      dataOffset8: 8,
      length8: 9,
      flags: 1,
      transactionId: 0x99n,
      reserved: 0,
      ranges: [
        { byteCount: 0x1800, byteOffset: 0x200, gpns: [0x1234n, 0x1235n] },
        { byteCount: 0x10, byteOffset: 0xff0, gpns: [0xab_cdefn] },
      ],
      extraHeader: new Uint8Array(0),
      payload: hex('aabbccddeeff0011'),
    },
    bytes: hex(`
      0900 0800 0900 0100   # type 9, dataOffset8 8 (16 + 8 + 24 + 16 = 64), length8 9, flags 1
      9900000000000000      # transactionId 0x99
      00000000 02000000     # reserved, rangeCount 2
      00180000 00020000     # range 0: byteCount 0x1800, byteOffset 0x200: 2 pages
      3412000000000000 3512000000000000
      10000000 f00f0000     # range 1: byteCount 0x10, byteOffset 0xff0: 1 page
      efcdab0000000000
      aabbccddeeff0011      # payload
    `),
  },
];

for (const { name, packet, bytes } of GOLDEN) {
  test(`golden packet, ${name}: encodes to and decodes from the documented bytes`, () => {
    assert.deepEqual(encodePacket(packet), bytes);
    assert.deepEqual(decodePacket(bytes), packet);
  });
}

test('the encoder derives dataOffset8 and length8 and pads the payload with zeros', () => {
  const bytes = encodePacket({ packetType: PACKET_TYPE.VM_PKT_DATA_INBAND, flags: 1, transactionId: 42n, payload: bytesOf('hello') });
  assert.deepEqual(bytes, GOLDEN[0]!.bytes);
});

test('given offsets larger than needed leave zero-filled room that decoding keeps', () => {
  const bytes = encodePacket({ packetType: PACKET_TYPE.VM_PKT_DATA_INBAND, dataOffset8: 3, length8: 5, payload: hex('01') });
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual(bytes.subarray(0, 8), hex('0600 0300 0500 0000'));
  assert.deepEqual(bytes.subarray(16), hex(zeros(8) + '01' + zeros(15)));
  const decoded = decodePacket(bytes);
  assert.ok(!(decoded instanceof WireError));
  assert.deepEqual(decoded.extraHeader, new Uint8Array(8));
  assert.equal(decoded.payload.length, 16);
});

test('other named types decode as descriptor, extra header and raw payload', () => {
  const bytes = hex('0500 0300 0400 0000  0000000000000000  0100000002000000  0304050607080900');
  const decoded = decodePacket(bytes);
  assert.ok(!(decoded instanceof WireError));
  assert.equal(decoded.packetType, PACKET_TYPE.VM_PKT_TEARDOWN_GPADL);
  assert.deepEqual(decoded.extraHeader, hex('0100000002000000'));
  assert.deepEqual(decoded.payload, hex('0304050607080900'));
  assert.deepEqual(encodePacket(decoded), bytes);
});

/** A well-formed GPA-direct packet to break one field at a time. */
const GPA = GOLDEN[3]!.bytes;
const XFER = GOLDEN[2]!.bytes;
function patch(bytes: Uint8Array, at: number, patchHex: string): Uint8Array {
  const out = bytes.slice();
  out.set(hex(patchHex), at);
  return out;
}

const MALFORMED: { name: string; bytes: Uint8Array; code: WireErrorCode }[] = [
  { name: 'fewer than 16 bytes', bytes: hex('0600 0200 0200 0000 00000000'), code: 'truncated' },
  { name: 'length8 < dataOffset8', bytes: hex('0600 0300 0200 0000 0000000000000000'), code: 'bad-descriptor' },
  { name: 'dataOffset8 < 2', bytes: hex('0600 0100 0200 0000 0000000000000000'), code: 'bad-descriptor' },
  { name: 'GPA direct with dataOffset8 < 3 (commit 4386c390b)', bytes: patch(GPA, 2, '0200'), code: 'bad-descriptor' },
  { name: 'transfer pages with dataOffset8 < 3', bytes: patch(XFER, 2, '0200'), code: 'bad-descriptor' },
  { name: 'length8 beyond the bytes given', bytes: hex('0600 0200 0400 0000 0000000000000000 0000000000000000'), code: 'bad-descriptor' },
  { name: 'bytes beyond length8', bytes: hex('0600 0200 0200 0000 0000000000000000 00'), code: 'oversized' },
  { name: 'flag bit other than COMPLETION_REQUESTED (lib.rs:383-385)', bytes: hex('0600 0200 0200 0300 0000000000000000'), code: 'unknown-flags' },
  { name: 'packet type above 0xd', bytes: hex('0e00 0200 0200 0000 0000000000000000'), code: 'unknown-type' },
  { name: 'GPA range with a zero byte count', bytes: patch(GPA, 24, '00000000'), code: 'zero-byte-count' },
  { name: 'GPA range offset above 0xfff (PR #1842)', bytes: patch(GPA, 28, '00100000'), code: 'gpa-offset-too-large' },
  { name: 'GPA range needing more page numbers than present', bytes: patch(GPA, 48, 'ff1f0000'), code: 'too-few-pages' },
  { name: 'GPA range count not fitting the header', bytes: patch(GPA, 20, '03000000'), code: 'range-out-of-bounds' },
  { name: 'GPA direct with zero ranges (lib.rs:431-435)', bytes: patch(GPA, 20, '00000000'), code: 'bad-value' },
  { name: 'transfer-page ranges not fitting the header', bytes: patch(XFER, 20, '03000000'), code: 'range-out-of-bounds' },
];

for (const { name, bytes, code } of MALFORMED) {
  test(`decodePacket rejects ${name} as ${code}`, () => {
    const r = decodePacket(bytes);
    assert.ok(r instanceof WireError, `decoded: ${String(r)}`);
    assert.equal(r.code, code, r.message);
  });
}

const BAD_INIT: { name: string; init: PacketInit; code: WireErrorCode }[] = [
  { name: 'an unknown type', init: { packetType: 0xe as never }, code: 'unknown-type' },
  { name: 'unknown flags', init: { packetType: PACKET_TYPE.VM_PKT_DATA_INBAND, flags: 2 }, code: 'unknown-flags' },
  { name: 'a transaction id above u64', init: { packetType: PACKET_TYPE.VM_PKT_COMP, transactionId: 1n << 64n }, code: 'bad-value' },
  { name: 'dataOffset8 inside the header', init: { packetType: PACKET_TYPE.VM_PKT_DATA_INBAND, dataOffset8: 1 }, code: 'bad-descriptor' },
  { name: 'length8 shorter than the payload', init: { packetType: PACKET_TYPE.VM_PKT_DATA_INBAND, length8: 2, payload: hex('01') }, code: 'bad-descriptor' },
  { name: 'a payload past the u16 length8', init: { packetType: PACKET_TYPE.VM_PKT_DATA_INBAND, payload: new Uint8Array(0x8_0000) }, code: 'oversized' },
  { name: 'an extra header that misaligns the payload', init: { packetType: PACKET_TYPE.VM_PKT_DATA_INBAND, extraHeader: hex('01') }, code: 'bad-size' },
  { name: 'GPA direct with no ranges', init: { packetType: PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT, ranges: [] }, code: 'bad-value' },
  {
    name: 'a GPA range short of page numbers',
    init: { packetType: PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT, ranges: [{ byteCount: 0x1001, byteOffset: 0, gpns: [1n] }] },
    code: 'too-few-pages',
  },
  {
    name: 'a transfer page set id above u16',
    init: { packetType: PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES, transferPageSetId: 0x1_0000, ranges: [] },
    code: 'bad-value',
  },
];

for (const { name, init, code } of BAD_INIT) {
  test(`encodePacket refuses ${name} with ${code}`, () => {
    const r = encodePacket(init);
    assert.ok(r instanceof WireError);
    assert.equal(r.code, code, r.message);
  });
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bytes8 = (maxUnits: number): fc.Arbitrary<Uint8Array> =>
  fc.integer({ min: 0, max: maxUnits }).chain((n) => fc.uint8Array({ minLength: n * 8, maxLength: n * 8 }));
const common = { flags: fc.constantFrom(0, 1), transactionId: u64, extraHeader: bytes8(2), payload: fc.uint8Array({ maxLength: 100 }) };
const gpaRange = fc
  .record({ byteCount: fc.integer({ min: 1, max: 3 * 4096 }), byteOffset: fc.integer({ min: 0, max: 0xfff }) })
  .chain((r) => {
    const n = gpaRangePageCount(r.byteOffset, r.byteCount);
    return fc.array(u64, { minLength: n, maxLength: n }).map((gpns) => ({ ...r, gpns }));
  });
const packetInit: fc.Arbitrary<PacketInit> = fc.oneof(
  fc.record({ packetType: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13), ...common }) as fc.Arbitrary<PacketInit>,
  fc.record({
    packetType: fc.constant(PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT),
    ...common,
    reserved: fc.integer({ min: 0, max: 0xffff_ffff }),
    ranges: fc.array(gpaRange, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    packetType: fc.constant(PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES),
    ...common,
    transferPageSetId: fc.integer({ min: 0, max: 0xffff }),
    reserved: fc.integer({ min: 0, max: 0xffff }),
    ranges: fc.array(fc.record({ byteCount: fc.nat({ max: 0xffff_ffff }), byteOffset: fc.nat({ max: 0xffff_ffff }) }), { maxLength: 5 }),
  }),
);

test('encode then decode then encode gives the same bytes for any valid packet', () => {
  fc.assert(
    fc.property(packetInit, (init) => {
      const bytes = encodePacket(init);
      assert.ok(bytes instanceof Uint8Array, bytes instanceof WireError ? bytes.message : '');
      const decoded = decodePacket(bytes);
      assert.ok(!(decoded instanceof WireError), decoded instanceof WireError ? decoded.message : '');
      assert.equal(decoded.packetType, init.packetType);
      assert.equal(decoded.transactionId, init.transactionId);
      assert.deepEqual(encodePacket(decoded), bytes);
    }),
    { seed: testSeed('packet encode/decode round trip'), numRuns: 500 },
  );
});

/**
 * Descriptors near the valid region over random bodies: lengths mostly agree
 * with the bytes and the first GPA range is plausible, so a good share decode
 * and the rest break one rule each.
 */
const nearPacketBytes = fc
  .record({
    packetType: fc.integer({ min: 0, max: 15 }),
    length8: fc.integer({ min: 2, max: 14 }),
    dataOffsetDelta: fc.integer({ min: -3, max: 6 }),
    flags: fc.constantFrom(0, 1, 1, 2),
    lengthSlack: fc.constantFrom(0, 0, 0, 0, -8, 1, 8),
    rangeCount: fc.constantFrom(0, 1, 1, 2, 3),
    byteCount: fc.integer({ min: 0, max: 9000 }),
    byteOffset: fc.constantFrom(0, 0x10, 0xfff, 0x1000),
    seed: fc.integer(),
  })
  .map((f) => {
    const length = Math.max(16, f.length8 * 8 + f.lengthSlack);
    const bytes = new Uint8Array(length);
    for (let i = 16; i < length; i++) bytes[i] = (Math.imul(f.seed ^ i, 0x9e37_79b1) >>> 24) & 0xff;
    const view = new DataView(bytes.buffer);
    view.setUint16(0, f.packetType, true);
    view.setUint16(2, Math.max(0, Math.min(f.length8, 3) + f.dataOffsetDelta), true);
    view.setUint16(4, f.length8, true);
    view.setUint16(6, f.flags, true);
    if (length >= 32) {
      view.setUint32(20, f.rangeCount, true);
      view.setUint32(24, f.byteCount, true);
      view.setUint32(28, f.byteOffset, true);
    }
    return bytes;
  });

test('decodePacket never throws: any bytes give a packet that re-encodes exactly, or a WireError', () => {
  fc.assert(
    fc.property(fc.oneof(nearPacketBytes, fc.uint8Array({ maxLength: 64 })), (bytes) => {
      const decoded = decodePacket(bytes);
      if (decoded instanceof WireError) return;
      assert.deepEqual(encodePacket(decoded), bytes);
    }),
    { seed: testSeed('decodePacket on arbitrary bytes'), numRuns: 2000 },
  );
});
