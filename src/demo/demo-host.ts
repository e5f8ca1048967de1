/**
 * The demo's host side for its one guest (a createVm host module): a KMCL
 * host device object over the guest's bus, metered, with the four
 * integration components offered on it as host devices (VSPs) and the example
 * checksum device beside them. It reports each channel once its device and
 * the guest's driver agree on versions, each heartbeat, and every failure;
 * it runs the KVP exchange and the shutdown request when asked.
 */
import { ChecksumVsp } from '../../examples/checksum/checksum-vsp.js';
import type { ChecksumReport } from '../../examples/checksum/guest-driver.js';
import { CHECKSUM_INSTANCE, CHECKSUM_INTERFACE } from '../../examples/checksum/protocol.js';
import {
  HEARTBEAT_APPLICATION_STATE,
  HeartbeatVsp,
  IC_SERVICES,
  IC_STATUS,
  KvpVsp,
  ShutdownVsp,
  TimeSyncVsp,
  formatIcVersion,
  icStatusName,
  type IcServiceName,
  type IcTransactionError,
  type IcVersions,
} from '../devices/index.js';
import { KmclHostDeviceObject } from '../kmcl/server/index.js';
import type { HostContext, HostModule, Teardown } from '../vm/index.js';
import type { WireError } from '../wire/wire-error.js';
import { demoWallClock, type DemoClockSource } from './demo-clocks.js';
import { describeDemoFailure } from './demo-error.js';
import { DEMO_CHANNEL_COUNT, type DemoChannel, type DemoFailure } from './demo-events.js';
import type { DemoRecorder } from './demo-recorder.js';
import { TrafficMeter } from './traffic-meter.js';

/** The device classes as `lsvmbus` (Linux tools/hv/lsvmbus) names them. */
const IC_CLASS_NAMES: Readonly<Record<IcServiceName, string>> = {
  heartbeat: 'Heartbeat',
  shutdown: 'Operating system shutdown',
  timeSync: 'Time Synchronization',
  kvp: 'Data Exchange',
};
const CHECKSUM_CLASS_NAME = 'Checksum (example device)';

export interface DemoHostOptions {
  readonly recorder: DemoRecorder;
  readonly clock: DemoClockSource;
  readonly heartbeatIntervalMs: number;
  readonly timeSyncIntervalMs: number;
}

/** The host devices of the one guest, once the host module ran. */
interface HostDevices {
  readonly heartbeat: HeartbeatVsp;
  readonly shutdown: ShutdownVsp;
  readonly timeSync: TimeSyncVsp;
  readonly kvp: KvpVsp;
  readonly checksum: ChecksumVsp;
}

export class DemoHost {
  readonly meter = new TrafficMeter();
  /** The rows of the channel table, in the order the channels became ready. */
  readonly channels: DemoChannel[] = [];
  #devices: HostDevices | null = null;
  #guestName = '';
  #channelsReady: () => void = () => undefined;
  #channelsFailed: (error: Error) => void = () => undefined;
  /** Settles once every channel is ready, or rejects when one cannot be. */
  readonly allChannelsReady: Promise<void>;

  constructor(private readonly options: DemoHostOptions) {
    this.allChannelsReady = new Promise<void>((resolve, reject) => {
      this.#channelsReady = resolve;
      this.#channelsFailed = reject;
    });
    // Nobody may be waiting yet when a device fails during boot; the boot reports it instead.
    this.allChannelsReady.catch(() => undefined);
  }

  /** The createVm host module. */
  readonly module: HostModule = (context) => this.#start(context);

  get devices(): HostDevices {
    if (this.#devices === null) throw new Error('the demo host module has not started');
    return this.#devices;
  }

  /**
   * Records a failure; while the channels are still coming up it also fails
   * the boot (a device that fails there would leave the table incomplete).
   */
  failed(failure: DemoFailure): void {
    this.options.recorder.fail(failure);
    this.#channelsFailed(new Error(describeDemoFailure(failure)));
  }

  /**
   * Stops the host's own timers (heartbeats, time samples) now, rescinding
   * those two devices: after a failure the guest may never close their
   * channels, and the VM's stop must find nothing ticking.
   */
  stopTicking(): void {
    const devices = this.#devices;
    if (devices === null) return;
    const report = (service: IcServiceName) => (error: unknown) =>
      this.options.recorder.fail({ partition: 'host', device: service, status: null, message: `stopping: ${String(error)}` });
    devices.heartbeat.stop().catch(report('heartbeat'));
    devices.timeSync.stop().catch(report('timeSync'));
  }

  /** The example device's report from the guest ('checksum-done'): its channel is ready. */
  exampleDone(report: ChecksumReport): void {
    const { recorder } = this.options;
    const version = `${report.version >>> 16}.${report.version & 0xffff}`;
    recorder.report({
      event: 'example-device',
      version,
      welcome: report.welcome,
      echoes: report.echoes.length,
      checksumBytes: report.checksum.byteCount,
      checksum: `0x${report.checksum.host.toString(16).padStart(8, '0')}`,
      gpadlId: report.gpadlId,
      greeting: report.greeting,
    });
    const refused = this.devices.checksum.record.refused;
    if (refused > 0) this.failed({ partition: 'host', device: 'checksum', status: null, message: `${refused} malformed requests from the guest` });
    this.#channelReady(CHECKSUM_CLASS_NAME, CHECKSUM_INTERFACE, `protocol ${version}`);
  }

  #start(context: HostContext): Teardown {
    const { recorder, clock, heartbeatIntervalMs, timeSyncIntervalMs } = this.options;
    if (this.#devices !== null) throw new Error('the demo runs one guest');
    recorder.startClock(context.scheduler);
    this.#guestName = context.guestName;
    const device = KmclHostDeviceObject.create({
      bus: this.meter.port(context.bus),
      guestMemory: context.guestMemory,
      scheduler: context.scheduler,
      name: `VMBus of ${context.guestName}`,
    });
    const negotiation = (service: IcServiceName) => ({
      onNegotiated: (versions: IcVersions) => this.#icReady(service, versions),
      onNegotiationFailed: (error: WireError) => this.#negotiationFailed(service, error),
    });
    const heartbeat = new HeartbeatVsp({
      device,
      intervalMs: heartbeatIntervalMs,
      ...negotiation('heartbeat'),
      onBeat: (beat) => recorder.report({ event: 'heartbeat', sequence: beat.sequenceNumber.toString(), state: applicationStateName(beat.applicationState) }),
      onMissed: (sequence) => this.failed({ partition: this.#guestName, device: 'heartbeat', status: null, message: `heartbeat ${sequence} unanswered within ${heartbeatIntervalMs} ms` }),
      onFailure: (error) => this.#transactionFailed('heartbeat', error),
    });
    const shutdown = new ShutdownVsp({ device, ...negotiation('shutdown') });
    const timeSync = new TimeSyncVsp({
      device,
      intervalMs: timeSyncIntervalMs,
      clocks: { hostTime: demoWallClock(clock, context.scheduler) },
      ...negotiation('timeSync'),
      onSample: ({ order, status }) => {
        if (status !== IC_STATUS.HV_S_OK) this.#refused('timeSync', `time sync ${order.kind}`, status);
      },
      onFailure: (error) => this.#transactionFailed('timeSync', error),
    });
    const kvp = new KvpVsp({ device, ...negotiation('kvp') });
    const checksum = new ChecksumVsp(context.bus, context.guestMemory);
    const checksumOffer = this.meter.offer(context.bus, { interfaceId: CHECKSUM_INTERFACE, instanceId: CHECKSUM_INSTANCE }, checksum);
    this.#devices = { heartbeat, shutdown, timeSync, kvp, checksum };
    return async () => {
      await Promise.all([heartbeat.stop(), shutdown.stop(), timeSync.stop(), kvp.stop(), checksumOffer.rescind()]);
    };
  }

  #icReady(service: IcServiceName, versions: IcVersions): void {
    const spec = IC_SERVICES[service];
    this.#channelReady(IC_CLASS_NAMES[service], spec.classId, `framework ${formatIcVersion(versions.framework)}, message ${formatIcVersion(versions.message)}`);
  }

  /** Reports the channel's table row (once: a later renegotiation is not a new channel). */
  #channelReady(name: string, classId: string, version: string): void {
    if (this.channels.some((channel) => channel.classId === classId)) return;
    const metered = this.meter.channels.find((channel) => channel.interfaceId === classId);
    if (metered === undefined) {
      this.failed({ partition: 'host', device: name, status: null, message: 'ready on a channel the host never saw open' });
      return;
    }
    const row: DemoChannel = {
      name,
      classId,
      instanceId: metered.instanceId,
      channelId: metered.channelId,
      guestToHostRingBytes: metered.guestToHostRingBytes,
      hostToGuestRingBytes: metered.hostToGuestRingBytes,
      version,
    };
    this.channels.push(row);
    this.options.recorder.report({ event: 'channel', ...row });
    if (this.channels.length === DEMO_CHANNEL_COUNT) this.#channelsReady();
  }

  #negotiationFailed(service: IcServiceName, error: WireError): void {
    this.failed({ partition: 'host', device: service, status: error.code, message: `version negotiation failed: ${error.message}` });
  }

  #transactionFailed(service: IcServiceName, error: IcTransactionError): void {
    const status = error.status === undefined ? error.reason : icStatusName(error.status);
    this.failed({ partition: this.#guestName, device: service, status, message: error.message });
  }

  #refused(service: IcServiceName, what: string, status: number): void {
    this.failed({ partition: this.#guestName, device: service, status: icStatusName(status), message: `${what} answered ${icStatusName(status)}` });
  }
}

function applicationStateName(state: number): string {
  const entry = Object.entries(HEARTBEAT_APPLICATION_STATE).find(([, value]) => value === state);
  return entry === undefined ? `0x${state.toString(16)}` : entry[0].toLowerCase();
}
