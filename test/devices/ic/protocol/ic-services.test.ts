import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeGuid } from '../../../../src/wire/guid.js';
import { IC_MESSAGE_TYPE } from '../../../../src/devices/ic/protocol/ic-frame.js';
import { IC_SERVICES } from '../../../../src/devices/ic/protocol/ic-services.js';
import { hex } from '../../../wire/messages/hex.js';

// Class GUIDs: L include/linux/hyperv.h HV_HEART_BEAT_GUID (1417), HV_SHUTDOWN_GUID (1401),
// HV_TS_GUID (1409), HV_KVP_GUID (1425) — linux-vmbus.md §A.6. Instance GUIDs: OpenVMM
// shutdown.rs:17, timesync.rs:17, kvp.rs:17 (hyperv_ic_protocol); OpenVMM has no heartbeat
// device, so heartbeat's is the id Hyper-V offers it with (guests list it as the device id,
// e.g. FreeBSD devinfo "hvheartbeat0 ... deviceid=fd149e91-82e0-4a7d-afa6-2a4166cbd7c0").

test('each service has its message type, class GUID and instance GUID', () => {
  const rows = Object.values(IC_SERVICES).map((s) => [s.name, s.messageType, s.classId, s.instanceId]);
  assert.deepEqual(rows, [
    ['heartbeat', IC_MESSAGE_TYPE.HEARTBEAT, '57164f39-9115-4e78-ab55-382f3bd5422d', 'fd149e91-82e0-4a7d-afa6-2a4166cbd7c0'],
    ['shutdown', IC_MESSAGE_TYPE.SHUTDOWN, '0e0b6031-5213-4934-818b-38d90ced39db', 'b6650ff7-33bc-4840-8048-e0676786f393'],
    ['timeSync', IC_MESSAGE_TYPE.TIME_SYNC, '9527e630-d0ae-497b-adce-e80ab0175caf', '2dd1ce17-079e-403c-b352-a1921ee207ee'],
    ['kvp', IC_MESSAGE_TYPE.KVP_EXCHANGE, 'a9a0f4e7-5a45-4d96-b827-8a841e8c03e6', '242ff919-07db-4180-9c2e-b86cb68c8c55'],
  ]);
});

test('class GUIDs go on the wire mixed-endian, as in an offer', () => {
  // GUID_INIT(a,b,c,d[8]): a u32 LE, b u16 LE, c u16 LE, then 8 bytes as written (linux-vmbus.md §A.6).
  const wire = (guid: string): Uint8Array => {
    const out = new Uint8Array(16);
    writeGuid(out, 0, guid);
    return out;
  };
  assert.deepEqual(wire(IC_SERVICES.heartbeat.classId), hex('394f1657 1591 784e ab55382f3bd5422d'));
  assert.deepEqual(wire(IC_SERVICES.shutdown.classId), hex('31600b0e 1352 3449 818b38d90ced39db'));
  assert.deepEqual(wire(IC_SERVICES.timeSync.classId), hex('30e62795 aed0 7b49 adcee80ab0175caf'));
  assert.deepEqual(wire(IC_SERVICES.kvp.classId), hex('e7f4a0a9 455a 964d b8278a841e8c03e6'));
});
