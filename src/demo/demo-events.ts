/**
 * What the demo reports, as plain JSON-ready events in the order they
 * happen. Times are milliseconds since the VM was built, on the VM's clock:
 * the simulation's virtual clock in single-thread mode (so a seeded run
 * gives the same events, times included), the machine's monotonic clock
 * with workers. No event carries a wall-clock reading in single-thread mode.
 */

/** The channels the guest opens, the table's rows: the four ICs and the example device ('ready' follows their 'channel' events). */
export const DEMO_CHANNEL_COUNT = 5;

/** The partition a report comes from: 'host' or the guest's name. */
export type DemoPartition = string;

/** One row of the channel table (`lsvmbus`): a channel the guest opened and its device agreed on versions. */
export interface DemoChannel {
  /** The device class, as `lsvmbus` names it. */
  readonly name: string;
  readonly classId: string;
  readonly instanceId: string;
  readonly channelId: number;
  /** Ring sizes in bytes, control page included. */
  readonly guestToHostRingBytes: number;
  readonly hostToGuestRingBytes: number;
  /** What the device and its driver negotiated: `framework 3.0, message 4.0` for an IC. */
  readonly version: string;
}

/** A failure a device or the bus reported while the demo ran; the summary counts them. */
export interface DemoFailure {
  readonly partition: DemoPartition;
  /** The device ('heartbeat', 'kvp', ...), or 'vmbus'. */
  readonly device: string;
  /** An NTSTATUS or IC status name, when the failure carries one. */
  readonly status: string | null;
  readonly message: string;
}

/** The totals the demo ends with. */
export interface DemoSummary {
  readonly channels: number;
  /** Packets, ring bytes and completion packets over every channel, both ways. */
  readonly packets: number;
  readonly bytes: number;
  readonly completions: number;
  readonly heartbeats: number;
  readonly timeSamples: number;
  readonly kvpTransactions: number;
  readonly errors: number;
  /** How the guest ended: 'in-thread' or 'clean' when it stopped by itself. */
  readonly guestExit: string;
}

export type DemoEvent =
  | { readonly event: 'demo-start'; readonly t: number; readonly mode: 'single-thread' | 'workers'; readonly seed: number | null; readonly durationMs: number }
  | { readonly event: 'vmbus-connected'; readonly t: number; readonly guest: string; readonly version: string }
  | ({ readonly event: 'channel'; readonly t: number } & DemoChannel)
  | { readonly event: 'ready'; readonly t: number; readonly channels: number }
  | { readonly event: 'example-device'; readonly t: number; readonly version: string; readonly welcome: number; readonly echoes: number; readonly checksumBytes: number; readonly checksum: string; readonly gpadlId: number; readonly greeting: string }
  | { readonly event: 'heartbeat'; readonly t: number; readonly sequence: string; readonly state: string }
  | { readonly event: 'time-sync'; readonly t: number; readonly kind: string; readonly hostTime: string; readonly offsetMs: number; readonly clockSet: boolean }
  | { readonly event: 'kvp-set'; readonly t: number; readonly pool: string; readonly key: string; readonly value: string }
  | { readonly event: 'kvp-get'; readonly t: number; readonly pool: string; readonly key: string; readonly value: string | null }
  | { readonly event: 'kvp-enumerate'; readonly t: number; readonly pool: string; readonly index: number; readonly key: string; readonly value: string }
  | { readonly event: 'kvp-enumerate-end'; readonly t: number; readonly pool: string; readonly count: number; readonly status: string }
  | { readonly event: 'shutdown-request'; readonly t: number; readonly kind: string; readonly reason: string; readonly message: string }
  | { readonly event: 'shutdown-answer'; readonly t: number; readonly status: string }
  | { readonly event: 'guest-shutdown'; readonly t: number; readonly kind: string; readonly message: string }
  | { readonly event: 'guest-stopped'; readonly t: number; readonly exit: string; readonly openChannels: number; readonly busPages: number; readonly pagesAllocated: number | null }
  | { readonly event: 'host-closed'; readonly t: number; readonly connection: string; readonly offers: number; readonly channels: number; readonly gpadls: number }
  | ({ readonly event: 'error'; readonly t: number } & DemoFailure)
  | ({ readonly event: 'summary'; readonly t: number } & DemoSummary);

/** The event names, for those who switch on them. */
export type DemoEventName = DemoEvent['event'];
