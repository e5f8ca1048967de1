import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NTSTATUS, ntStatusName, ntSuccess } from '../../src/wire/ntstatus.js';

test('NTSTATUS values match ntstatus.h for the codes the KMCL pages name', () => {
  // Values from the Windows SDK ntstatus.h; names as used in shared/reference/kmcl-ddi.
  assert.equal(NTSTATUS.STATUS_INVALID_PARAMETER_1, 0xc00000ef);
  assert.equal(NTSTATUS.STATUS_INVALID_PARAMETER_2, 0xc00000f0);
  assert.equal(NTSTATUS.STATUS_INVALID_PARAMETER_3, 0xc00000f1);
  assert.equal(NTSTATUS.STATUS_BUFFER_TOO_SMALL, 0xc0000023);
  assert.equal(NTSTATUS.STATUS_BUFFER_OVERFLOW, 0x80000005);
  assert.equal(NTSTATUS.STATUS_MORE_PROCESSING_REQUIRED, 0xc0000016);
  assert.equal(NTSTATUS.STATUS_DEVICE_REMOVED, 0xc00002b6);
  assert.equal(NTSTATUS.STATUS_CANCELLED, 0xc0000120);
  // openvmm-vmbus.md §6.1 (vmbus_core/src/protocol.rs:31-33).
  assert.equal(NTSTATUS.STATUS_CONNECTION_REFUSED, 0xc0000236);
  assert.equal(NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL, 0x8000ffff);
});

test('ntStatusName names known values and prints others as hex', () => {
  assert.equal(ntStatusName(0xc00002b6), 'STATUS_DEVICE_REMOVED');
  assert.equal(ntStatusName(-1073741823), 'STATUS_UNSUCCESSFUL');
  assert.equal(ntStatusName(0xc0001234), '0xC0001234');
});

test('ntSuccess is true for success and informational severities only', () => {
  assert.equal(ntSuccess(NTSTATUS.STATUS_SUCCESS), true);
  assert.equal(ntSuccess(NTSTATUS.STATUS_PENDING), true);
  assert.equal(ntSuccess(NTSTATUS.STATUS_BUFFER_OVERFLOW), false);
  assert.equal(ntSuccess(NTSTATUS.STATUS_UNSUCCESSFUL), false);
});
