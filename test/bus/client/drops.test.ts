import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COPPER,
  WIN8,
  assertSound,
  connectedRig,
  drops,
  gpadlCreated,
  hex,
  newRig,
  offer,
  versionResponse,
  zeros,
} from './harness.js';
import type { Rig } from './harness.js';

/** Where the hostile message arrives. */
type Setting = 'disconnected' | 'connecting' | 'connected at 6.0' | 'connected at 2.4';

function rigIn(setting: Setting): Rig {
  switch (setting) {
    case 'disconnected':
      return newRig();
    case 'connecting': {
      const rig = newRig();
      rig.client.connect({ targetMessageVp: 0 });
      rig.notifier.take();
      return rig;
    }
    case 'connected at 6.0':
      return connectedRig(COPPER);
    case 'connected at 2.4':
      return connectedRig(WIN8);
  }
}

const CASES: readonly { readonly name: string; readonly setting: Setting; readonly bytes: unknown; readonly code: string | null }[] = [
  // A VMBus message has an 8-byte header and at most 240 bytes (openvmm-vmbus.md §6.1).
  { name: 'an empty message', setting: 'connected at 6.0', bytes: new Uint8Array(0), code: 'truncated' },
  { name: 'a 7-byte message', setting: 'connected at 6.0', bytes: hex('04000000 000000'), code: 'truncated' },
  { name: 'a 241-byte message', setting: 'connected at 6.0', bytes: hex(`04000000 00000000 ${zeros(233)}`), code: 'oversized' },
  { name: 'a 4096-byte message', setting: 'connected at 6.0', bytes: new Uint8Array(4096), code: 'oversized' },
  // Types are 1..29 (openvmm-vmbus.md §2.2).
  { name: 'type 0', setting: 'connected at 6.0', bytes: hex('00000000 00000000'), code: 'unknown-type' },
  { name: 'type 30', setting: 'connected at 6.0', bytes: hex('1e000000 00000000'), code: 'unknown-type' },
  { name: 'type 0xffffffff', setting: 'connected at 6.0', bytes: hex('ffffffff 00000000'), code: 'unknown-type' },
  // Guest→host types (openvmm-vmbus.md §2.2): a host may not send them.
  { name: 'REQUEST_OFFERS from the host', setting: 'connected at 6.0', bytes: hex('03000000 00000000'), code: 'wrong-direction' },
  { name: 'OPEN_CHANNEL from the host', setting: 'connected at 6.0', bytes: hex(`05000000 00000000 ${zeros(140)}`), code: 'wrong-direction' },
  { name: 'INITIATE_CONTACT from the host', setting: 'connecting', bytes: hex(`0e000000 00000000 ${zeros(32)}`), code: 'wrong-direction' },
  // Before a version is negotiated only VERSION_RESPONSE may come (protocol/macros.rs:33-58).
  { name: 'an offer before contact', setting: 'disconnected', bytes: hex(offer({ channelId: 1 })), code: 'not-negotiated' },
  { name: 'GPADL_CREATED while connecting', setting: 'connecting', bytes: hex(gpadlCreated(1, 1, 0)), code: 'not-negotiated' },
  // Gates: MODIFY_CHANNEL_RESPONSE from 5.3, PAUSE_RESPONSE at 6.0 with pause_resume (openvmm-vmbus.md §2.2).
  { name: 'MODIFY_CHANNEL_RESPONSE at 2.4', setting: 'connected at 2.4', bytes: hex(`18000000 00000000 ${zeros(8)}`), code: 'not-negotiated' },
  { name: 'PAUSE_RESPONSE without pause_resume', setting: 'connected at 6.0', bytes: hex('1c000000 00000000'), code: 'not-negotiated' },
  { name: 'a VERSION_RESPONSE of 15 bytes', setting: 'connecting', bytes: hex(versionResponse(1, 0, 1)).slice(0, 15), code: 'truncated' },
  { name: 'something that is not bytes', setting: 'connected at 6.0', bytes: [15, 0, 0, 0], code: null },
];

for (const c of CASES) {
  test(`${c.name} (${c.setting}) is dropped with a trace and changes nothing`, () => {
    const rig = rigIn(c.setting);
    const before = { phase: rig.client.phase, counts: rig.client.counts() };
    rig.client.receive(c.bytes as Uint8Array);
    assert.deepEqual(rig.notifier.take(), { sent: [], events: [] });
    assert.deepEqual({ phase: rig.client.phase, counts: rig.client.counts() }, before);
    const [dropped, ...more] = drops(rig);
    assert.deepEqual(more, []);
    assert.equal(dropped?.layer, 'bus');
    assert.equal(dropped?.source, 'client');
    assert.equal(dropped?.kind, 'message-dropped');
    assert.ok((dropped?.reason ?? '').length > 0);
    assert.equal(dropped?.detail?.['code'], c.code ?? undefined);
    assertSound(rig);
  });
}

test('the client reads the message once: bytes changed after receive change nothing', () => {
  const rig = connectedRig(COPPER);
  const bytes = hex(offer({ channelId: 3 }));
  rig.client.receive(bytes);
  bytes.fill(0xff);
  assert.equal(rig.client.channel(3)?.offer.channelId, 3);
  assert.equal(rig.client.channel(3)?.offer.userDefined[0], 0);
});
