/**
 * The guest side: a calculator VSC written only against the KMCL client
 * interface table, as a C driver would be, run as a createVm guest module
 * (the same file runs in the VM's thread and in a guest worker). It sends
 * its requests, checks every answer against its own computation, and emits
 * 'vsc-done' with what it received.
 */
import {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  ntStatusName,
  queryInterface,
  type KMCL_CLIENT_INTERFACE_V5,
  type Out,
  type VMBCHANNEL,
} from '../../src/index.js';
import type { GuestContext, Teardown } from '../../src/vm/index.js';
import { CALCULATOR_INSTANCE, CALCULATOR_INTERFACE, STATUS, decodeResponse, encodeAdd, encodeUppercase } from './protocol.js';

/** The ADD requests sent with a completion routine (the second wraps modulo 2^32). */
export const SUMS: readonly (readonly number[])[] = [[1, 2, 3, 4], [0xffff_ffff, 2], []];
/** The UPPERCASE request sent with a completion routine, and the one sent synchronously. */
export const TEXT = 'hello, vmbus!';
export const SYNC_TEXT = 'a synchronous request';
/** Room for the synchronous answer (a multiple of 8, as the page requires). */
const SYNC_ANSWER_CAPACITY = 64;

/** What the VSC reports in 'vsc-done'. */
export interface VscReport {
  /** The sums the VSP answered, in request order. */
  readonly sums: number[];
  readonly upper: string;
  readonly syncUpper: string;
  /** The status the VSP answered a malformed request with. */
  readonly malformedStatus: number;
  /** Answers that differed from the guest's own computation (or failed). */
  readonly mismatches: number;
}

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

export default async function calculatorVsc(context: GuestContext): Promise<Teardown> {
  // Query the client interface table (V5) on the VMBus device object.
  const table: Out<KMCL_CLIENT_INTERFACE_V5 | null> = { value: null };
  check('queryInterface', queryInterface(context.device, KMCL_CLIENT_INTERFACE_TYPE, table, SIZEOF_KMCL_CLIENT_INTERFACE_V5, KMCL_CLIENT_INTERFACE_VERSION_V5));
  const kmcl = table.value!;
  // Allocate a client channel (IsServer = FALSE).
  const box: Out<VMBCHANNEL | null> = { value: null };
  check('VmbChannelAllocate', kmcl.VmbChannelAllocate(context.device, false, box));
  const channel = box.value!;
  const started = new Promise<void>((resolve, reject) => {
    // Bind to the first offer of the calculator's interface GUID; a failed open rejects.
    const failed = (_c: VMBCHANNEL, status: number): void => reject(new Error(`open failed: ${ntStatusName(status)}`));
    check('VmbClientChannelInitSetTargetPnp', kmcl.VmbClientChannelInitSetTargetPnp(channel, CALCULATOR_INTERFACE, CALCULATOR_INSTANCE, failed));
    // PostStarted: the channel is open and packets may flow.
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelPostStarted = () => resolve();
    check('VmbChannelInitSetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
  });
  // The VSP sends no requests of its own: any packet is completed empty.
  const processPacket = kmcl.VmbChannelInitSetProcessPacketCallbacks(channel, (_c, packet) => kmcl.VmbChannelPacketComplete(packet, null, 0), null);
  check('VmbChannelInitSetProcessPacketCallbacks', processPacket);
  // Enable: open the channel once the offer arrives, then wait until it is started.
  check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
  await started;

  // Sends one request with completion requested; resolves with the response (null if failed or malformed).
  const send = (request: Uint8Array): Promise<{ status: number; body: Uint8Array } | null> =>
    new Promise((resolve) => {
      const packet = kmcl.VmbPacketAllocate(channel)!;
      kmcl.VmbPacketSetCompletionRoutine(packet, (p, status, buffer, length) => {
        resolve(status === NTSTATUS.STATUS_SUCCESS ? decodeResponse(buffer, length) : null);
        kmcl.VmbPacketFree(p);
      });
      check('VmbPacketSend', kmcl.VmbPacketSend(packet, request, request.length, null, VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION));
    });
  let mismatches = 0;
  const ok = (response: { status: number; body: Uint8Array } | null): Uint8Array => {
    if (response === null || response.status !== STATUS.OK) {
      mismatches++;
      return new Uint8Array(0);
    }
    return response.body;
  };
  // Several requests in flight at once, each answered in its completion.
  const malformed = new Uint8Array([0x99, 0, 0, 0]);
  const [upperResponse, malformedResponse, ...sumResponses] = await Promise.all([send(encodeUppercase(TEXT)), send(malformed), ...SUMS.map((values) => send(encodeAdd(values)))]);
  const sums = sumResponses.map((response, i) => {
    const body = ok(response ?? null);
    const sum = body.length === 4 ? new DataView(body.buffer, body.byteOffset).getUint32(0, true) : -1;
    if (sum !== SUMS[i]!.reduce((a, b) => (a + b) >>> 0, 0)) mismatches++;
    return sum;
  });
  const upper = new TextDecoder().decode(ok(upperResponse ?? null));
  if (upper !== TEXT.toUpperCase()) mismatches++;
  // One synchronous request: the answer is copied into the caller's buffer.
  const request = encodeUppercase(SYNC_TEXT);
  const answerBuffer = new Uint8Array(SYNC_ANSWER_CAPACITY);
  const answerSize: Out<number> = { value: SYNC_ANSWER_CAPACITY };
  const syncStatus = await kmcl.VmbChannelSendSynchronousRequest(channel, request, request.length, null, VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION, answerBuffer, answerSize, null);
  check('VmbChannelSendSynchronousRequest', syncStatus);
  const syncUpper = new TextDecoder().decode(ok(decodeResponse(answerBuffer, answerSize.value)));
  if (syncUpper !== SYNC_TEXT.toUpperCase()) mismatches++;

  const report: VscReport = { sums, upper, syncUpper, malformedStatus: malformedResponse?.status ?? -1, mismatches };
  context.emit('vsc-done', report);
  return async () => {
    // Stop: disable (close the channel), clean it up, release the table.
    check('VmbChannelDisable', await kmcl.VmbChannelDisable(channel));
    check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
    kmcl.InterfaceDereference(kmcl.Context);
  };
}
