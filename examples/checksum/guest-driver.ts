/**
 * The example's guest driver, written only against the KMCL interface table,
 * line for line as a C driver would be: query KMCL_CLIENT_INTERFACE_V5 on the
 * VMBus device object, allocate and configure a channel, enable it, then talk
 * to the checksum device: a synchronous VERSION request, in-band ECHO packets,
 * a CHECKSUM of a buffer sent as GPA-direct external data, and a SHARE of a
 * buffer through a GPADL the host maps. It reports what came back in the
 * 'checksum-done' event and undoes everything on teardown. A createVm guest
 * module: the same file runs in the VM's thread or in a guest worker.
 */
import {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION as WAIT,
  ntStatusName,
  queryInterface,
  type KMCL_CLIENT_INTERFACE_V5,
  type NtStatus,
  type Out,
  type VMBCHANNEL,
  type VMBPACKET,
  type VMBPACKETCOMPLETION,
} from '../../src/index.js';
import { MemoryError, Mdl, PAGE_SIZE } from '../../src/memory/index.js';
import type { GuestContext, Teardown } from '../../src/vm/index.js';
import { CHECKSUM_INSTANCE, CHECKSUM_INTERFACE, MESSAGE_SIZE, OP, PROTOCOL_VERSION, RESULT, checksumPattern, decodeMessage, encodeMessage } from './protocol.js';

/** What the driver got back from the device ('checksum-done' event). */
export interface ChecksumReport {
  readonly version: number;
  readonly welcome: number;
  readonly echoes: readonly (readonly number[])[];
  readonly checksum: { readonly byteCount: number; readonly host: number };
  /** The GPADL the guest shared, and what the host wrote into it. */
  readonly gpadlId: number;
  readonly greeting: string;
}

export const ECHO_COUNT = 4;
/** Spans two pages, so the external data is one range over two PFNs. */
export const CHECKSUM_BYTES = 6000;
export const SHARED_BYTES = 2 * PAGE_SIZE;

function check(what: string, status: NtStatus): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

export default async function checksumDriver(context: GuestContext): Promise<Teardown> {
  const { device, memory, allocator } = context;
  // WdfFdoQueryForInterface(Fdo, &KMCL_CLIENT_INTERFACE_TYPE, &Interface, sizeof(Interface), 5, NULL)
  const table: Out<KMCL_CLIENT_INTERFACE_V5 | null> = { value: null };
  check('query', queryInterface(device, KMCL_CLIENT_INTERFACE_TYPE, table, SIZEOF_KMCL_CLIENT_INTERFACE_V5, KMCL_CLIENT_INTERFACE_VERSION_V5));
  const kmcl = table.value!;

  // Four contiguous guest pages (MmAllocateContiguousMemory): two to checksum, two to share.
  const pages = allocator.allocate(4, 'contiguous');
  if (pages instanceof MemoryError) throw pages;
  const base = pages[0]! * PAGE_SIZE;
  memory.view(base, CHECKSUM_BYTES).set(checksumPattern(CHECKSUM_BYTES));
  const shared = memory.view(base + 2 * PAGE_SIZE, SHARED_BYTES);

  const channelBox: Out<VMBCHANNEL | null> = { value: null };
  check('VmbChannelAllocate', kmcl.VmbChannelAllocate(device, false, channelBox));
  const channel = channelBox.value!;
  const gpadl: Out<number> = { value: 0 };
  let welcome = -1;
  const started = new Promise<void>((resolve, reject) => {
    const pnpFailure = (_c: VMBCHANNEL, status: NtStatus): void => reject(new Error(`open failed: ${ntStatusName(status)}`));
    check('TargetPnp', kmcl.VmbClientChannelInitSetTargetPnp(channel, CHECKSUM_INTERFACE, CHECKSUM_INSTANCE, pnpFailure));
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    // EvtChannelOpened: make the GPADL before packets flow; a failure refuses the open.
    callbacks.EvtChannelOpened = (ch) => kmcl.VmbChannelCreateGpadlFromBuffer(ch, 0, shared, SHARED_BYTES, gpadl);
    // EvtChannelClosed: delete it again (this waits until the host has unmapped it).
    callbacks.EvtChannelClosed = async (ch) => check('VmbChannelDeleteGpadl', await kmcl.VmbChannelDeleteGpadl(ch, gpadl.value));
    callbacks.EvtChannelPostStarted = () => resolve();
    check('SetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
  });
  // EvtVmbChannelProcessPacket (DISPATCH_LEVEL): the host's WELCOME, acknowledged in its completion.
  const processPacket = (_c: VMBCHANNEL, packet: VMBPACKETCOMPLETION, buffer: Uint8Array, length: number): void => {
    const message = decodeMessage(buffer.subarray(0, length));
    if (message?.[0] === OP.WELCOME) welcome = message[1];
    const ack = encodeMessage([RESULT.OK, message?.[1] ?? 0, 0, 0]);
    kmcl.VmbChannelPacketComplete(packet, ack, ack.length);
  };
  check('SetProcessPacketCallbacks', kmcl.VmbChannelInitSetProcessPacketCallbacks(channel, processPacket, null));
  check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
  await started;

  // VERSION as a synchronous request: the completion lands in our buffer.
  const request = encodeMessage([OP.VERSION, PROTOCOL_VERSION, 0, 0]);
  const response = new Uint8Array(MESSAGE_SIZE);
  const responseSize: Out<number> = { value: MESSAGE_SIZE };
  check('SendSynchronousRequest', await kmcl.VmbChannelSendSynchronousRequest(channel, request, request.length, null, WAIT, response, responseSize, null));
  const [versionStatus, version] = decodeMessage(response)!;
  if (versionStatus !== RESULT.OK) throw new Error(`the device refused version ${PROTOCOL_VERSION.toString(16)}`);

  // One transaction: a packet from the lookaside list, a completion routine, a VmbPacketSend* call.
  const transact = (sendOn: (packet: VMBPACKET) => NtStatus): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const packet = kmcl.VmbPacketAllocate(channel);
      if (packet === null) return reject(new Error('VmbPacketAllocate returned no packet'));
      kmcl.VmbPacketSetCompletionRoutine(packet, (done, status, buffer, length) => {
        kmcl.VmbPacketFree(done);
        if (status === NTSTATUS.STATUS_SUCCESS) resolve(buffer.slice(0, length));
        else reject(new Error(`transaction failed: ${ntStatusName(status)}`));
      });
      const status = sendOn(packet);
      if (status !== NTSTATUS.STATUS_SUCCESS) {
        kmcl.VmbPacketFree(packet);
        reject(new Error(`send failed: ${ntStatusName(status)}`));
      }
    });

  // ECHO: in-band packets in flight together; each completion carries the echo.
  const echoes = await Promise.all(
    Array.from({ length: ECHO_COUNT }, (_, n) => {
      const message = encodeMessage([OP.ECHO, n, 0, 0], Uint8Array.from({ length: 8 }, (_, i) => n * 16 + i));
      return transact((packet) => kmcl.VmbPacketSend(packet, message, message.length, null, WAIT));
    }),
  );

  // CHECKSUM: the buffer's pages go as GPA-direct external data (IoAllocateMdl + MmBuildMdlForNonPagedPool).
  const mdl = Mdl.fromBuffer(base, CHECKSUM_BYTES);
  const checksumRequest = encodeMessage([OP.CHECKSUM, CHECKSUM_BYTES, 0, 0]);
  const [, byteCount, hostChecksum] = decodeMessage(
    await transact((packet) => kmcl.VmbPacketSendWithExternalMdl(packet, checksumRequest, MESSAGE_SIZE, mdl, 0, CHECKSUM_BYTES, WAIT)),
  )!;

  // SHARE: the host maps our GPADL and writes its greeting into the shared pages.
  const share = encodeMessage([OP.SHARE, gpadl.value, SHARED_BYTES, 0]);
  const [, written] = decodeMessage(await transact((packet) => kmcl.VmbPacketSend(packet, share, share.length, null, WAIT)))!;
  const greeting = new TextDecoder().decode(shared.subarray(0, written));

  const report: ChecksumReport = { version, welcome, echoes: echoes.map((echo) => [...echo]), checksum: { byteCount, host: hostChecksum }, gpadlId: gpadl.value, greeting };
  context.emit('checksum-done', report);

  return async () => {
    check('VmbChannelDisable', await kmcl.VmbChannelDisable(channel));
    check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
    allocator.free(pages);
    kmcl.InterfaceDereference(kmcl.Context);
  };
}
