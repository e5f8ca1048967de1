import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KmclError, NTSTATUS } from '../../src/index.js';

test('KmclError carries the NTSTATUS unsigned, with its name in the message', () => {
  const error = new KmclError(NTSTATUS.STATUS_INVALID_PARAMETER_2, 'PacketSize is zero');
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'KmclError');
  assert.equal(error.status, 0xc00000f0);
  assert.equal(error.statusName, 'STATUS_INVALID_PARAMETER_2');
  assert.equal(error.message, 'STATUS_INVALID_PARAMETER_2: PacketSize is zero');
});

test('KmclError normalizes a signed status and names unknown ones in hex', () => {
  const error = new KmclError(-1073741536); // 0xC0000120 as a signed 32-bit value
  assert.equal(error.status, NTSTATUS.STATUS_CANCELLED);
  assert.equal(error.message, 'STATUS_CANCELLED');
  assert.equal(new KmclError(0xc0009999).statusName, '0xC0009999');
});
