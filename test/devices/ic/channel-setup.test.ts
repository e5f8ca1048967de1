/**
 * Setting up an IC channel: a failing KMCL call ends the setup with a
 * KmclError carrying its status, and the channel is cleaned up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KmclError, NTSTATUS } from '../../../src/index.js';
import { HeartbeatVsc } from '../../../src/devices/ic/guest/index.js';
import { HeartbeatVsp, KvpVsp } from '../../../src/devices/ic/host/index.js';
import { IcMachine } from './support/ic-machine.js';

test('a guest driver on a host device object is refused by VmbChannelAllocate with a KmclError', () => {
  const m = new IcMachine(1);
  // A client channel needs the guest's VMBus device object: a host device object is the wrong parent.
  const error = (() => {
    try {
      // As a caller without the types would: the typed API takes the guest's device object only.
      new HeartbeatVsc({ device: m.hostDeviceObject as never });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(error instanceof KmclError, String(error));
  assert.match(error.message, /VmbChannelAllocate for the heartbeat IC/);
});

test('a second host device with the same class and instance is refused when offered, and a new instance GUID is accepted', async () => {
  const m = new IcMachine(2);
  const first = new KvpVsp({ device: m.hostDeviceObject });
  assert.throws(() => new KvpVsp({ device: m.hostDeviceObject }), (error: unknown) => {
    assert.ok(error instanceof KmclError);
    assert.notEqual(error.status, NTSTATUS.STATUS_SUCCESS);
    assert.match(error.message, /setting up the kvp IC channel/);
    return true;
  });
  const second = new KvpVsp({ device: m.hostDeviceObject, instanceId: '0f7c6a52-3b1d-4c8e-9a2f-5d6e7f8a9b0c' });
  assert.equal(second.ic.state, 'closed');
  const heartbeat = new HeartbeatVsp({ device: m.hostDeviceObject });
  await m.drive(Promise.all([first.stop(), second.stop(), heartbeat.stop()]));
  assert.equal(m.hostBus.resources().offers, 0, 'every offer rescinded');
});
