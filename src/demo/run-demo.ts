/**
 * The demo, start to finish: a VM with one guest (in a worker, or with the
 * host in one seeded thread), the host offering the four integration
 * components and the example device, the guest binding its drivers; then a
 * live phase (heartbeats, time sync samples, a KVP exchange both ways) and a
 * shutdown the guest acknowledges before it unloads its bus. Everything it
 * sees goes to `onEvent` as it happens (`demo-events.ts`); it resolves with
 * the summary, or rejects with a DemoError that says which partition or
 * device failed and how.
 */
import type { ChecksumReport } from '../../examples/checksum/guest-driver.js';
import { IC_STATUS, icStatusName } from '../devices/index.js';
import { realTimeScheduler } from '../kmcl/index.js';
import type { TraceEvent, TraceSink } from '../trace/index.js';
import { createVm, type Vm, type VmGuestEvent, type VmMode, type VmStopReport } from '../vm/index.js';
import { formatVersion, type VmbusVersion } from '../wire/messages/index.js';
import { SIMULATED_GUEST_CLOCK_LAG_MS } from './demo-clocks.js';
import { DemoError, describeDemoFailure, describeError, onDevice } from './demo-error.js';
import { DEMO_CHANNEL_COUNT, type DemoEvent, type DemoSummary } from './demo-events.js';
import type { DemoGuestData, GuestFailure, GuestShutdown, GuestTimeSample } from './demo-guest.js';
import { DemoHost } from './demo-host.js';
import { DemoRecorder } from './demo-recorder.js';
import { exchangeKvp } from './kvp-exchange.js';
import { runOnVirtualTime } from './virtual-time.js';

export interface DemoOptions {
  /** `{ kind: 'single-thread', seed }` for a reproducible run on a virtual clock, or `{ kind: 'workers' }`. */
  readonly mode: VmMode;
  /** How long the live phase runs (virtual time in single-thread mode). */
  readonly durationMs: number;
  /** Default 1000 (Hyper-V beats about every 2 s; the demo shows more of them). */
  readonly heartbeatIntervalMs?: number;
  /** Default 2000 (Hyper-V samples every 5 s). */
  readonly timeSyncIntervalMs?: number;
  /** The newest VMBus version the host accepts (the guest falls back to it). */
  readonly maxVersion?: VmbusVersion;
  /** Guest memory in 4 KiB pages (default: createVm's). */
  readonly guestMemoryPages?: number;
  /** Every event, in order. */
  readonly onEvent: (event: DemoEvent) => void;
}

/** How long the channels may take to become ready, on the VM's clock. */
export const BOOT_TIMEOUT_MS = 20_000;
/** How long a step of the live or shutdown phase may take beyond its own length. */
export const STEP_TIMEOUT_MS = 10_000;
const GUEST_NAME = 'demo-guest';
const GUEST_MODULE = new URL('./demo-guest.js', import.meta.url);
/**
 * The bus trace event that means a peer broke the protocol: a message with no
 * effect and no answer. ('message-rejected' is a refusal the peer is told of,
 * such as a VMBus version the host does not speak: part of the protocol.)
 */
const PROTOCOL_FAULT = 'message-dropped';

/** Runs the demo; see the file comment. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const recorder = new DemoRecorder(options.onEvent);
  const singleThread = options.mode.kind === 'single-thread';
  const host = new DemoHost({
    recorder,
    clock: singleThread ? { kind: 'simulated', lagMs: 0 } : { kind: 'machine' },
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
    timeSyncIntervalMs: options.timeSyncIntervalMs ?? 2000,
  });
  const guestData: DemoGuestData = { clock: singleThread ? { kind: 'simulated', lagMs: SIMULATED_GUEST_CLOCK_LAG_MS } : { kind: 'machine' } };
  recorder.report({ event: 'demo-start', mode: options.mode.kind, seed: options.mode.kind === 'single-thread' ? options.mode.seed : null, durationMs: options.durationMs });
  const guestEvents = (event: VmGuestEvent): void => guestEvent(event, host, recorder);

  let vm: Vm;
  try {
    vm = await createVm({
      guests: [{ name: GUEST_NAME, data: guestData, ...(options.guestMemoryPages !== undefined && { memoryPages: options.guestMemoryPages }) }],
      mode: options.mode,
      host: host.module,
      guest: GUEST_MODULE,
      trace: busTrace(host, recorder),
      onEvent: guestEvents,
      ...(options.maxVersion !== undefined && { maxVersion: options.maxVersion }),
    });
  } catch (error) {
    throw new DemoError('the VM did not boot', describeError(error));
  }

  try {
    await phase(vm, 'boot', host.allChannelsReady, BOOT_TIMEOUT_MS, () => channelsAwaited(host));
    recorder.report({ event: 'ready', channels: host.channels.length });

    const exchange = onDevice('host', 'kvp', exchangeKvp(host.devices.kvp, recorder));
    const liveMs = options.durationMs + STEP_TIMEOUT_MS;
    const live = afterMs(vm, options.durationMs);
    // A failed exchange ends the phase early: its timer must not hold the process (or a virtual clock) for the rest.
    await phase(vm, 'live', Promise.all([exchange, live.elapsed]), liveMs, () => 'the KVP exchange to end').finally(live.cancel);

    // A planned power-off, not forced: the guest answers first, then acts (unloads its drivers, says 'shutdown').
    const message = 'kmcl demo: the live phase is over';
    recorder.report({ event: 'shutdown-request', kind: 'power-off', reason: 'planned', message });
    const answer = onDevice('host', 'shutdown', host.devices.shutdown.requestShutdown({ message }));
    const status = await phase(vm, 'shutdown', answer, STEP_TIMEOUT_MS, () => "the guest's answer to the shutdown request");
    recorder.report({ event: 'shutdown-answer', status: icStatusName(status) });
    if (status !== IC_STATUS.HV_S_OK) {
      const refusal = { partition: GUEST_NAME, device: 'shutdown', status: icStatusName(status), message: 'the guest refused to shut down' };
      throw new DemoError('the shutdown phase failed', [describeDemoFailure(refusal)]);
    }
    const acted = vm.waitForEvent('shutdown', GUEST_NAME);
    await phase(vm, 'shutdown', acted, STEP_TIMEOUT_MS, () => 'the guest to unload its drivers after it accepted the shutdown');
  } catch (error) {
    recorder.close();
    // Nothing may keep ticking while the VM stops (a single-thread stop runs until idle).
    host.stopTicking();
    await vm.stop().catch(() => undefined);
    throw error;
  }

  let report: VmStopReport;
  try {
    report = await vm.stop();
  } catch (error) {
    throw new DemoError('the VM did not stop cleanly', describeError(error));
  }
  const guest = report.guests[0]!;
  recorder.report({
    event: 'guest-stopped',
    exit: guest.exit,
    openChannels: guest.bus?.openChannels ?? 0,
    busPages: guest.bus?.pages ?? 0,
    pagesAllocated: guest.pagesAllocated,
  });
  const hostSide = report.host[0]!;
  recorder.report({ event: 'host-closed', connection: hostSide.connection, offers: hostSide.resources.offers, channels: hostSide.resources.channels, gpadls: hostSide.table.gpadls });
  checkReleased(report, recorder);

  const { counts } = recorder;
  const summary: DemoSummary = {
    channels: host.channels.length,
    ...host.meter.traffic,
    heartbeats: counts.heartbeats,
    timeSamples: counts.timeSamples,
    kvpTransactions: counts.kvpTransactions,
    errors: counts.failures.length,
    guestExit: guest.exit,
  };
  recorder.report({ event: 'summary', ...summary });
  return summary;
}

/**
 * Waits for one step of a phase while the VM runs, for at most `ms` on the
 * VM's clock; a failure, a guest's fault or the deadline becomes a DemoError
 * naming the phase.
 */
async function phase<T>(vm: Vm, name: string, work: Promise<T>, ms: number, waitingFor: () => string): Promise<T> {
  const scheduler = vm.simulation?.scheduler;
  try {
    if (scheduler === undefined) return await vm.run(withDeadline(work, ms, waitingFor));
    return await runOnVirtualTime(scheduler, work, { ms, waitingFor });
  } catch (error) {
    throw new DemoError(`the ${name} phase failed`, describeError(error));
  }
}

/** `elapsed` resolves after `ms` on the VM's clock (virtual in single-thread mode), unless `cancel` came first. */
function afterMs(vm: Vm, ms: number): { readonly elapsed: Promise<void>; readonly cancel: () => void } {
  const scheduler = vm.simulation?.scheduler ?? realTimeScheduler;
  let cancel = (): void => undefined;
  const elapsed = new Promise<void>((resolve) => {
    cancel = scheduler.schedule(resolve, ms * 10_000);
  });
  return { elapsed, cancel };
}

/** `work`, or a rejection saying what it was once `ms` passed (real time). */
function withDeadline<T>(work: Promise<T>, ms: number, waitingFor: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${waitingFor()}`)), ms);
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

function channelsAwaited(host: DemoHost): string {
  const ready = host.channels.map((channel) => channel.name).join(', ') || 'none';
  return `all ${DEMO_CHANNEL_COUNT} channels to become ready (ready: ${ready})`;
}

/** What a guest module said, as the demo reports it. */
function guestEvent(event: VmGuestEvent, host: DemoHost, recorder: DemoRecorder): void {
  switch (event.kind) {
    case 'time-sample': {
      const sample = event.detail as GuestTimeSample;
      recorder.report({ event: 'time-sync', kind: sample.kind, hostTime: sample.hostTime, offsetMs: sample.offset / 10_000, clockSet: sample.clockSet });
      return;
    }
    case 'shutdown': {
      const request = event.detail as GuestShutdown;
      recorder.report({ event: 'guest-shutdown', kind: request.kind, message: request.message });
      return;
    }
    case 'failure': {
      const failure = event.detail as GuestFailure;
      host.failed({ partition: event.guest, device: failure.device, status: failure.code, message: failure.message });
      return;
    }
    case 'checksum-done':
      host.exampleDone(event.detail as ChecksumReport);
      return;
  }
}

/** From the buses' trace: the guest's connection, and protocol faults (messages dropped) as failures. */
function busTrace(host: DemoHost, recorder: DemoRecorder): TraceSink {
  return {
    emit: (event: TraceEvent) => {
      const guest = event.detail?.['vmGuest'];
      const onHost = event.source === 'host-bus' || event.source === 'server';
      if (event.kind === 'connected' && event.source === 'host-bus') {
        const version = event.detail?.['version'];
        recorder.report({ event: 'vmbus-connected', guest: String(guest), version: typeof version === 'number' ? formatVersion(version) : String(version) });
      } else if (event.kind === PROTOCOL_FAULT) {
        host.failed({ partition: onHost || typeof guest !== 'string' ? 'host' : guest, device: 'vmbus', status: event.kind, message: event.reason ?? event.kind });
      }
    },
  };
}

/** A partition that still holds something after the stop is a failure of the run. */
function checkReleased(report: VmStopReport, recorder: DemoRecorder): void {
  for (const guest of report.guests) {
    const held = [
      guest.bus !== null && guest.bus.openChannels > 0 ? `${guest.bus.openChannels} open channels` : '',
      guest.bus !== null && guest.bus.pages > 0 ? `${guest.bus.pages} bus pages` : '',
      guest.pagesAllocated !== null && guest.pagesAllocated > 0 ? `${guest.pagesAllocated} allocated pages` : '',
      ...guest.invariants,
    ].filter((text) => text !== '');
    if (held.length > 0) recorder.fail({ partition: guest.name, device: 'vmbus', status: null, message: `still held after unload: ${held.join(', ')}` });
  }
  for (const side of report.host) {
    const held = [
      side.table.gpadls > 0 ? `${side.table.gpadls} GPADLs` : '',
      side.resources.channels > 0 ? `${side.resources.channels} channels` : '',
      ...side.invariants,
    ].filter((text) => text !== '');
    if (held.length > 0) recorder.fail({ partition: 'host', device: 'vmbus', status: null, message: `still held for ${side.guest} after close: ${held.join(', ')}` });
  }
}
