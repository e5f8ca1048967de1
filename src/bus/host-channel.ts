/**
 * The host's side of one open channel: the ring GPADL mapped and split into
 * two rings, the event port the guest signals, the monitor id it may trigger
 * instead, and the connection the host signals the guest on. Everything made
 * by `attach` is undone by `detach`, in reverse order, whatever the guest did.
 *
 * Ring GPADL layout (openvmm-vmbus.md §6.4, `gpadl_ring.rs:55-73`): pages
 * `[0, offset)` are the guest→host ring (ours to read), pages `[offset, end)`
 * the host→guest ring (ours to write), each starting with its control page.
 * Ring start state as OpenVMM's host sets it (§6.2, `lib.rs:847-856`,
 * `1019-1031`): the incoming ring's interrupt mask set, the outgoing ring's
 * pending send size 0 and its pending-send-size feature bit set.
 */
import { EVENT_FLAG_COUNT, HV_STATUS, hvStatusName, type Partition } from '../hv/index.js';
import { MemoryError } from '../memory/index.js';
import { PagedRingMemory, RingReader, RingWriter } from '../ring/index.js';
import { FEATURE_SUPPORTS_PENDING_SEND_SIZE, RING_CONTROL_WORD } from '../wire/ring-control.js';
import type { OpenChannelAction, VmbusServer } from './server/index.js';
import { RingEndpoint, type PeerSignal } from './channel-endpoint.js';
import type { EventFlagRouter } from './event-flag-router.js';
import type { GuestPorts } from './guest-ports.js';
import { hostEventPortId } from './hv-ids.js';

/** What a host channel needs from its bus. */
export interface HostChannelContext {
  readonly host: Partition;
  readonly guest: Partition;
  readonly hostVp: number;
  readonly hostSint: number;
  readonly server: VmbusServer;
  /** Routes the host's SINT flags; a channel's flag is its channel id. */
  readonly router: EventFlagRouter;
  readonly guestPorts: GuestPorts;
  readonly onHandlerError: (error: unknown) => void;
}

/**
 * One step `detach` undoes. `servicing` steps release what the guest uses or
 * what belongs to the old server (ports, connections, monitor id, the ring
 * mapping): a servicing teardown leaves them to the bus restored after it.
 */
interface UndoStep {
  readonly run: () => void;
  readonly servicing: boolean;
}

export class HostChannel {
  readonly endpoint: RingEndpoint;
  readonly action: OpenChannelAction;
  readonly #context: HostChannelContext;
  /** Undo steps of `attach`, run last to first by `detach`. */
  readonly #undo: UndoStep[];

  private constructor(context: HostChannelContext, action: OpenChannelAction, endpoint: RingEndpoint, undo: UndoStep[]) {
    this.#context = context;
    this.action = action;
    this.endpoint = endpoint;
    this.#undo = undo;
  }

  /**
   * Sets the channel up for `action`, or says why it cannot be (nothing is
   * left behind then). With `adopt` (a restore), the event port, the guest's
   * connection to it and the monitor id that a servicing predecessor kept are
   * taken over instead of made.
   */
  static attach(context: HostChannelContext, action: OpenChannelAction, monitorLatency: number, adopt = false): HostChannel | string {
    const undo: UndoStep[] = [];
    const fail = (reason: string): string => {
      runUndo(undo, false);
      return reason;
    };
    const { server, host, guest } = context;
    const { channelId } = action;
    const mapping = server.mapGpadl(action.ringGpadlId, { writable: true, channelId });
    if (mapping instanceof MemoryError) return fail(`ring GPADL ${action.ringGpadlId} cannot be mapped: ${mapping.message}`);
    undo.push({ run: () => server.unmapGpadl(mapping), servicing: true });
    const views = mapping.pageViews();
    if (views instanceof MemoryError) return fail(`ring GPADL ${action.ringGpadlId}: ${views.message}`);

    let reader: RingReader;
    let writer: RingWriter;
    try {
      // The guest wrote these control pages: the reader and writer validate its indices.
      reader = new RingReader(new PagedRingMemory(views.slice(0, action.downstreamRingPageOffset)));
      writer = new RingWriter(new PagedRingMemory(views.slice(action.downstreamRingPageOffset)));
    } catch (error) {
      return fail(`the guest's rings are unusable: ${error instanceof Error ? error.message : String(error)}`);
    }
    reader.maskInterrupts();
    writer.clearPendingSendSize();
    Atomics.or(writer.memory.control, RING_CONTROL_WORD.featureBits, FEATURE_SUPPORTS_PENDING_SEND_SIZE);

    const portId = hostEventPortId(context.hostSint, channelId);
    const created = host.createEventPort(portId, { vp: context.hostVp, sint: context.hostSint, baseFlagNumber: channelId });
    // An existing port or connection is the one the predecessor kept: HvCreatePort and HvConnectPort refuse a taken id.
    if (created !== HV_STATUS.SUCCESS && !(adopt && created === HV_STATUS.INVALID_PORT_ID)) {
      return fail(`event port for channel ${channelId}: ${hvStatusName(created)}`);
    }
    undo.push({ run: () => host.deletePort(portId), servicing: true });
    const connected = guest.connect(action.connectionId, { partitionId: host.id, portId });
    if (connected !== HV_STATUS.SUCCESS && !(adopt && connected === HV_STATUS.INVALID_CONNECTION_ID)) {
      return fail(`guest connection ${action.connectionId} for channel ${channelId}: ${hvStatusName(connected)}`);
    }
    undo.push({ run: () => guest.disconnect(action.connectionId), servicing: true });

    const { monitorId } = action;
    if (monitorId !== null) {
      const kept = adopt && guest.monitor.isAllocated(monitorId) && guest.monitor.setLatency(monitorId, monitorLatency);
      if (!kept && !guest.monitor.claim(monitorId, { connectionId: action.connectionId, flagNumber: 0 }, monitorLatency)) {
        return fail(`monitor id ${monitorId} of channel ${channelId} is taken`);
      }
      undo.push({ run: () => guest.monitor.release(monitorId), servicing: true });
    }
    if (action.eventFlag >= EVENT_FLAG_COUNT) return fail(`event flag ${action.eventFlag} is beyond the SINT's ${EVENT_FLAG_COUNT} flags`);
    const signal = guestSignal(context, action.targetVp, action.eventFlag);
    if (typeof signal === 'string') return fail(signal);

    const endpoint = new RingEndpoint(channelId, reader, writer, signal, context.onHandlerError);
    context.router.route(context.hostVp, channelId, endpoint);
    undo.push({ run: () => context.router.unroute(context.hostVp, channelId, endpoint), servicing: false });
    undo.push({ run: () => endpoint.close(), servicing: false });
    return new HostChannel(context, action, endpoint, undo);
  }

  /** MODIFY_CHANNEL moved the guest's interrupts to `targetVp`; false if that VP cannot be signalled. */
  retarget(targetVp: number): boolean {
    const signal = guestSignal(this.#context, targetVp, this.action.eventFlag);
    if (typeof signal === 'string') return false;
    this.endpoint.retarget(signal);
    return true;
  }

  /**
   * Releases everything `attach` made; the ring GPADL is unmapped last. For
   * `servicing`, only the endpoint stops: ports, connections and the monitor
   * id stay for the bus restored next, and the old server keeps its mapping.
   * Safe to call twice.
   */
  detach(servicing = false): void {
    runUndo(this.#undo, servicing);
  }
}

/** How the host signals the guest's `targetVp`; null when the guest disabled interrupts. */
function guestSignal(context: HostChannelContext, targetVp: number | null, eventFlag: number): PeerSignal | null | string {
  if (targetVp === null) return null;
  const connectionId = context.guestPorts.eventConnection(targetVp);
  if (typeof connectionId === 'string') return connectionId;
  const { host } = context;
  return () => host.signalEvent(connectionId, eventFlag) === HV_STATUS.SUCCESS;
}

function runUndo(undo: UndoStep[], servicing: boolean): void {
  for (let step = undo.pop(); step !== undefined; step = undo.pop()) if (!(servicing && step.servicing)) step.run();
}
