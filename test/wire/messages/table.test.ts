import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MESSAGE_SIZE, MESSAGE_HEADER_SIZE, MESSAGE_TABLE, MESSAGE_TYPE, VMBUS_VERSION as V, messageTypeOf } from '../../../src/wire/messages/index.js';
import type { FieldSpec, MessageSpec } from '../../../src/wire/messages/index.js';

const SPECS: readonly MessageSpec[] = MESSAGE_TABLE;
const WIDTH = { u8: 1, u16: 2, u32: 4, u64: 8, guid: 16 } as const;
const fieldBytes = (f: FieldSpec): number => (f.kind === 'bytes' || f.kind === 'pad' ? f.length : f.kind === 'u64-array' ? 0 : WIDTH[f.kind]);

// The message list of openvmm-vmbus.md §2.2 (OpenVMM protocol.rs:58-108): number, name,
// direction (H = host→guest), minimum version of the oldest variant, feature bits.
const EXPECTED: readonly (readonly [number, string, 'H' | 'G', number, number?])[] = [
  [1, 'OFFER_CHANNEL', 'H', V.V1],
  [2, 'RESCIND_CHANNEL_OFFER', 'H', V.V1],
  [3, 'REQUEST_OFFERS', 'G', V.V1],
  [4, 'ALL_OFFERS_DELIVERED', 'H', V.V1],
  [5, 'OPEN_CHANNEL', 'G', V.V1],
  [6, 'OPEN_CHANNEL_RESULT', 'H', V.V1],
  [7, 'CLOSE_CHANNEL', 'G', V.V1],
  [8, 'GPADL_HEADER', 'G', V.V1],
  [9, 'GPADL_BODY', 'G', V.V1],
  [10, 'GPADL_CREATED', 'H', V.V1],
  [11, 'GPADL_TEARDOWN', 'G', V.V1],
  [12, 'GPADL_TORNDOWN', 'H', V.V1],
  [13, 'REL_ID_RELEASED', 'G', V.V1],
  [14, 'INITIATE_CONTACT', 'G', 0],
  [15, 'VERSION_RESPONSE', 'H', 0],
  [16, 'UNLOAD', 'G', V.V1],
  [17, 'UNLOAD_COMPLETE', 'H', V.Win7],
  [18, 'OPEN_RESERVED_CHANNEL', 'G', V.Win10],
  [19, 'CLOSE_RESERVED_CHANNEL', 'G', 0],
  [20, 'CLOSE_RESERVED_RESPONSE', 'H', V.Win10],
  [21, 'TL_CONNECT_REQUEST', 'G', V.Win10],
  [22, 'MODIFY_CHANNEL', 'G', V.Win10Rs3_0],
  [23, 'TL_CONNECT_REQUEST_RESULT', 'H', V.Win10Rs3_0],
  [24, 'MODIFY_CHANNEL_RESPONSE', 'H', V.Iron],
  [25, 'MODIFY_CONNECTION', 'G', V.Copper, 0x4],
  [26, 'MODIFY_CONNECTION_RESPONSE', 'H', V.Copper, 0x4],
  [27, 'PAUSE', 'G', V.Copper, 0x20],
  [28, 'PAUSE_RESPONSE', 'H', V.Copper, 0x20],
  [29, 'RESUME', 'G', V.Copper, 0x20],
];

test('the table has message types 1..29 with the names, directions and gates of openvmm-vmbus.md §2.2', () => {
  const actual = SPECS.map((s) => {
    const oldest = s.variants[s.variants.length - 1]!;
    const row = [s.type, s.name, s.direction === 'host-to-guest' ? 'H' : 'G', oldest.minVersion] as const;
    return oldest.features === undefined ? row : [...row, oldest.features];
  });
  assert.deepEqual(actual, EXPECTED);
});

test('the size-chosen and gated variants are the ones of protocol.rs:58-108, newest first', () => {
  const multi = SPECS.filter((s) => s.variants.length > 1).map((s) =>
    s.variants.map((v) => [v.kind, v.size, v.minVersion, v.features ?? null, v.checkSize ?? false]),
  );
  assert.deepEqual(multi, [
    // OpenChannel2: Copper + (guest_specified_signal_parameters | channel_interrupt_redirection), §6.7.
    [['OpenChannel2', 156, V.Copper, 0x3, false], ['OpenChannel', 148, V.V1, null, false]],
    // InitiateContact2: min version 0, check_size (protocol.rs:76-82), §6.8.
    [['InitiateContact2', 56, 0, null, true], ['InitiateContact', 40, 0, null, false]],
    // VersionResponse3/2: min version 0, check_size (protocol.rs:83-87), §6.8.
    [['VersionResponse3', 40, 0, null, true], ['VersionResponse2', 20, 0, null, true], ['VersionResponse', 16, 0, null, false]],
    // TlConnectRequest2: Win10Rs5, check_size (protocol.rs:93-98), §6.9.
    [['TlConnectRequest2', 56, V.Win10Rs5, null, true], ['TlConnectRequest', 40, V.Win10, null, false]],
  ]);
});

for (const spec of SPECS) {
  for (const variant of spec.variants) {
    test(`${variant.kind}: fits the ${MAX_MESSAGE_SIZE}-byte SynIC payload and its fields tile bytes ${MESSAGE_HEADER_SIZE}..${variant.size} exactly`, () => {
      // MAX_MESSAGE_SIZE includes the 8-byte header (protocol.rs:36, macros.rs:92).
      assert.ok(variant.size <= MAX_MESSAGE_SIZE);
      const owner = new Array<string | undefined>(variant.size).fill(undefined);
      for (const f of variant.fields) {
        if (f.kind === 'u64-array') {
          assert.equal(f, variant.fields[variant.fields.length - 1], 'trailing data is the last field');
          assert.equal(f.offset, variant.size, 'trailing data starts where the fixed part ends');
          continue;
        }
        assert.ok(f.offset >= MESSAGE_HEADER_SIZE && f.offset + fieldBytes(f) <= variant.size, `${f.name} inside the message`);
        for (let i = f.offset; i < f.offset + fieldBytes(f); i++) {
          assert.equal(owner[i], undefined, `${f.name} overlaps ${owner[i]} at byte ${i}`);
          owner[i] = f.name;
        }
      }
      for (let i = MESSAGE_HEADER_SIZE; i < variant.size; i++) assert.notEqual(owner[i], undefined, `byte ${i} belongs to no field`);
    });

    test(`${variant.kind}: every field is naturally aligned, as in OpenVMM's #[repr(C)] structs`, () => {
      // repr(C) places u16 on 2, u32 on 4, u64 on 8 bytes; GUIDs have 4-byte alignment.
      const align = { u8: 1, u16: 2, u32: 4, u64: 8, guid: 4, bytes: 1, pad: 1, 'u64-array': 4 } as const;
      for (const f of variant.fields) assert.equal(f.offset % align[f.kind], 0, f.name);
    });
  }

  test(`${spec.name}: variants are newest and largest first, with distinct field names`, () => {
    const sizes = spec.variants.map((v) => v.size);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
    for (const v of spec.variants) {
      const names = v.fields.filter((f) => f.kind !== 'pad').map((f) => f.name);
      assert.equal(new Set(names).size, names.length);
    }
  });
}

test('variant kinds are unique and map back to their type number', () => {
  const kinds = SPECS.flatMap((s) => s.variants.map((v) => v.kind));
  assert.equal(new Set(kinds).size, kinds.length);
  assert.equal(messageTypeOf('OpenChannel2'), 5);
  assert.equal(messageTypeOf('VersionResponse3'), 15);
  assert.equal(messageTypeOf('Resume'), 29);
  assert.equal(MESSAGE_TYPE.GPADL_HEADER, 8);
  assert.equal(MESSAGE_TYPE.TL_CONNECT_REQUEST_RESULT, 23);
});

test('a GPADL_HEADER carries at most 27 u64 and a GPADL_BODY 28 (protocol.rs:690-705)', () => {
  const gpadl = (name: string): number => SPECS.find((s) => s.name === name)!.variants[0]!.size;
  assert.equal(Math.floor((MAX_MESSAGE_SIZE - gpadl('GPADL_HEADER')) / 8), 27);
  assert.equal(Math.floor((MAX_MESSAGE_SIZE - gpadl('GPADL_BODY')) / 8), 28);
});
