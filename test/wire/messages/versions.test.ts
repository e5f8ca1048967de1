import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALL_FEATURE_FLAGS,
  FEATURE_FLAG,
  VMBUS_VERSION,
  VMBUS_VERSIONS,
  formatVersion,
  isKnownVersion,
  makeVersion,
  parseVersion,
  versionName,
} from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';

test('protocol versions have the values of openvmm-vmbus.md §2.1 (protocol.rs:315-333), oldest first', () => {
  assert.deepEqual(
    VMBUS_VERSIONS.map((v) => [versionName(v), v]),
    [
      ['V1', 0x0000_000d],
      ['Win7', 0x0001_0001],
      ['Win8', 0x0002_0004],
      ['Win8_1', 0x0003_0000],
      ['Win10', 0x0004_0000],
      ['Win10Rs3_0', 0x0004_0001],
      ['Win10Rs3_1', 0x0005_0000],
      ['Win10Rs4', 0x0005_0001],
      ['Win10Rs5', 0x0005_0002],
      ['Iron', 0x0005_0003],
      ['Copper', 0x0006_0000],
    ],
  );
});

test('formatVersion prints major.minor', () => {
  assert.equal(formatVersion(VMBUS_VERSION.V1), '0.13');
  assert.equal(formatVersion(VMBUS_VERSION.Win8), '2.4');
  assert.equal(formatVersion(VMBUS_VERSION.Iron), '5.3');
  assert.equal(formatVersion(VMBUS_VERSION.Copper), '6.0');
  assert.equal(formatVersion(0xffff_ffff), '65535.65535');
});

test('parseVersion reads major.minor, OpenVMM names and u32 numbers, known or not', () => {
  assert.equal(parseVersion('5.3'), 0x0005_0003);
  assert.equal(parseVersion(' 0.13 '), 0x0000_000d);
  assert.equal(parseVersion('7.1'), 0x0007_0001); // unknown versions parse (vmbus_core/src/lib.rs:95-97)
  assert.equal(parseVersion('Copper'), 0x0006_0000);
  assert.equal(parseVersion(0x0005_0002), 0x0005_0002);
  assert.equal(makeVersion(6, 0), VMBUS_VERSION.Copper);
  assert.equal(isKnownVersion(0x0007_0001), false);
  assert.equal(isKnownVersion(VMBUS_VERSION.Win10Rs4), true);
});

test('parseVersion returns bad-value for text or numbers that are no version', () => {
  for (const bad of ['', '5', '5.', '.3', '5.3.1', '65536.0', '0.65536', 'iron', 'toString', '-1.0', -1, 1.5, 2 ** 32, NaN]) {
    const r = parseVersion(bad);
    assert.ok(r instanceof WireError, String(bad));
    assert.equal(r.code, 'bad-value');
  }
});

test('Copper feature flags have the bits of openvmm-vmbus.md §2.1 (protocol.rs:153-199)', () => {
  assert.deepEqual(FEATURE_FLAG, {
    GUEST_SPECIFIED_SIGNAL_PARAMETERS: 0x1,
    CHANNEL_INTERRUPT_REDIRECTION: 0x2,
    MODIFY_CONNECTION: 0x4,
    CLIENT_ID: 0x8,
    CONFIDENTIAL_CHANNELS: 0x10,
    PAUSE_RESUME: 0x20,
    SERVER_SPECIFIED_MONITOR_PAGES: 0x40,
    GPA_PINNING: 0x80,
  });
  assert.equal(ALL_FEATURE_FLAGS, 0xff);
});
