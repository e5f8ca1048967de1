/**
 * The same guest driver on the idiomatic API: a channel object with options
 * and hooks, async/await, `for await` over the host's packets, guest buffers
 * for the external data and the GPADL. Same protocol, same report
 * ('checksum-done'), same bytes on the wire as guest-driver.ts.
 */
import { Vmbus, type Gpadl } from '../../src/index.js';
import type { GuestContext, Teardown } from '../../src/vm/index.js';
import { CHECKSUM_BYTES, ECHO_COUNT, SHARED_BYTES, type ChecksumReport } from './guest-driver.js';
import { CHECKSUM_INSTANCE, CHECKSUM_INTERFACE, OP, PROTOCOL_VERSION, RESULT, checksumPattern, decodeMessage, encodeMessage } from './protocol.js';

export default async function checksumDriverIdiomatic(context: GuestContext): Promise<Teardown> {
  const vmbus = new Vmbus(context.device);
  const data = vmbus.allocateBuffer(CHECKSUM_BYTES);
  data.bytes.set(checksumPattern(CHECKSUM_BYTES));
  const shared = vmbus.allocateBuffer(SHARED_BYTES);
  let gpadl: Gpadl | null = null;
  const channel = vmbus.createChannel({
    interfaceId: CHECKSUM_INTERFACE,
    instanceId: CHECKSUM_INSTANCE,
    onOpened: async (opened) => void (gpadl = await opened.createGpadl(shared)),
    onClosed: () => gpadl?.delete(),
  });

  // The host's packets (its WELCOME), answered in their completions while we talk.
  let welcome = -1;
  const serving = (async () => {
    for await (const packet of channel.packets()) {
      const message = decodeMessage(packet.data);
      if (message?.[0] === OP.WELCOME) welcome = message[1];
      packet.complete(encodeMessage([RESULT.OK, message?.[1] ?? 0, 0, 0]));
    }
  })();
  await channel.open();

  const [versionStatus, version] = decodeMessage(await channel.request(encodeMessage([OP.VERSION, PROTOCOL_VERSION, 0, 0])))!;
  if (versionStatus !== RESULT.OK) throw new Error(`the device refused version ${PROTOCOL_VERSION.toString(16)}`);
  const echoes = await Promise.all(
    Array.from({ length: ECHO_COUNT }, (_, n) => {
      const tail = Uint8Array.from({ length: 8 }, (_, i) => n * 16 + i);
      return channel.send(encodeMessage([OP.ECHO, n, 0, 0], tail), { waitForCompletion: true });
    }),
  );
  const checksumReply = await channel.send(encodeMessage([OP.CHECKSUM, CHECKSUM_BYTES, 0, 0]), { external: data });
  const [, byteCount, hostChecksum] = decodeMessage(checksumReply)!;
  const shareReply = await channel.send(encodeMessage([OP.SHARE, gpadl!.id, SHARED_BYTES, 0]), { waitForCompletion: true });
  const [, written] = decodeMessage(shareReply)!;
  const greeting = new TextDecoder().decode(shared.bytes.subarray(0, written));

  const report: ChecksumReport = { version, welcome, echoes: echoes.map((echo) => [...echo]), checksum: { byteCount, host: hostChecksum }, gpadlId: gpadl!.id, greeting };
  context.emit('checksum-done', report);

  return async () => {
    await channel.dispose();
    await serving;
    data.free();
    shared.free();
  };
}
