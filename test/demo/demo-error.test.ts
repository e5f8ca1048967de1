/**
 * How the demo tells a failure: one line per failure, whatever layer threw it,
 * naming the partition or device and the status, never a bare stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DemoError, describeDemoFailure, describeError } from '../../src/demo/index.js';
import { onDevice } from '../../src/demo/demo-error.js';
import { IC_STATUS, IcTransactionError } from '../../src/devices/index.js';
import { KmclError, NTSTATUS } from '../../src/index.js';
import { VmError } from '../../src/vm/index.js';
import { wireError } from '../../src/wire/wire-error.js';

test('each layer\'s error becomes lines that say who failed and with which status', () => {
  const cases: [unknown, string[]][] = [
    [
      new VmError([
        { partition: 'demo-guest', phase: 'connect', message: 'BusError: STATUS_INSUFFICIENT_RESOURCES: 2 pages requested, 1 free', stack: 'BusError\n    at connect' },
        { partition: 'host', phase: 'host-teardown', message: 'Error: gone' },
      ]),
      ['guest "demo-guest": its bus failed to connect: BusError: STATUS_INSUFFICIENT_RESOURCES: 2 pages requested, 1 free', 'host: a host module failed to tear down: Error: gone'],
    ],
    [new KmclError(NTSTATUS.STATUS_INVALID_PARAMETER_1, 'VmbChannelAllocate'), ['KmclError: STATUS_INVALID_PARAMETER_1: VmbChannelAllocate']],
    [new IcTransactionError('guest-status', 'KVP get answered HV_E_FAIL', undefined, IC_STATUS.HV_E_FAIL), ['KVP get answered HV_E_FAIL (guest-status, IC status HV_E_FAIL)']],
    [new IcTransactionError('malformed', 'bad answer', wireError('truncated', 'body of 2 bytes')), ['bad answer: body of 2 bytes (truncated) (malformed)']],
    [wireError('bad-value', 'not a GUID'), ['not a GUID (bad-value)']],
    [new DemoError('the live phase failed', ['host: kvp: one', 'host: kvp: two']), ['host: kvp: one', 'host: kvp: two']],
    [new Error('gave up after 5 ms waiting for x'), ['gave up after 5 ms waiting for x']],
    [new RangeError('out of range'), ['RangeError: out of range']],
    ['a string', ['a string']],
  ];
  for (const [error, lines] of cases) assert.deepEqual(describeError(error), lines);
});

test('a device step\'s failure names its partition and device on every line', async () => {
  const failing = Promise.reject(new IcTransactionError('closed', 'the channel closed'));
  await assert.rejects(onDevice('host', 'kvp', failing), (error: unknown) => {
    assert.ok(error instanceof DemoError);
    assert.equal(error.headline, 'host: kvp');
    assert.deepEqual(error.details, ['host: kvp: the channel closed (closed)']);
    return true;
  });
  assert.equal(await onDevice('host', 'kvp', Promise.resolve(3)), 3);
});

test('a DemoError\'s message is its headline, then its lines', () => {
  assert.equal(new DemoError('the boot phase failed', ['a', 'b']).message, 'the boot phase failed\na\nb');
});

test('a recorded failure reads as one line: host or guest, device, what, status', () => {
  assert.equal(describeDemoFailure({ partition: 'host', device: 'vmbus', status: 'message-dropped', message: 'channel 2 is rescinded' }), 'host, vmbus: channel 2 is rescinded (message-dropped)');
  assert.equal(describeDemoFailure({ partition: 'demo-guest', device: 'checksum', status: null, message: 'open failed: STATUS_INSUFFICIENT_RESOURCES' }), 'guest "demo-guest", checksum: open failed: STATUS_INSUFFICIENT_RESOURCES');
});
