/**
 * One partition in its own worker thread, driven by threads.test.ts over the
 * worker's message port. It attaches to the hypervisor the main thread
 * exported and talks to the other worker's partition only through it.
 *
 * Loaded directly (the test runner loads every file under test/), it does nothing.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HV_STATUS, attachHypervisor, type Partition, type SharedHypervisorDescriptor } from '../../src/hv/index.js';

/** Commands from the test, and what the worker answers. */
export type WorkerCommand =
  | { readonly cmd: 'ping'; readonly count: number }
  | { readonly cmd: 'idle'; readonly ms: number }
  | { readonly cmd: 'poke' }
  | { readonly cmd: 'close' };

export interface WorkerSetup {
  readonly descriptor: SharedHypervisorDescriptor;
  readonly role: 'host' | 'guest';
}

/** Ports and connections of the exchange (VMBus-like: messages and events on SINT 2, guest receiving on VP 1). */
export const TOPOLOGY = {
  host: { id: 0, messagePort: 1, eventPort: 2, eventBase: 5 },
  guest: { id: 1, messagePort: 10, eventPort: 11, vp: 1 },
  /** Connection ids, each in its sender's namespace. */
  guestToHostMessages: 1,
  guestToHostEvents: 2,
  hostToGuestMessages: 10,
  hostToGuestEvents: 11,
  sint: 2,
  guestEventSint: 3,
  pokeByte: 0xff,
} as const;

/** Posts in order, retrying while the receiver's buffers are full (as Linux retries HvPostMessage, linux-vmbus.md §A.3.1). */
class OrderedSender {
  private readonly backlog: Uint8Array[] = [];
  private retrying = false;

  constructor(
    private readonly partition: Partition,
    private readonly connectionId: number,
    private readonly afterEach: () => void = () => undefined,
  ) {}

  send(payload: Uint8Array): void {
    this.backlog.push(payload);
    this.flush();
  }

  private flush(): void {
    while (this.backlog.length > 0) {
      const status = this.partition.postMessage(this.connectionId, 1, this.backlog[0]!);
      if (status === HV_STATUS.INSUFFICIENT_BUFFERS) {
        if (!this.retrying) {
          this.retrying = true;
          void nextTurn().then(() => {
            this.retrying = false;
            this.flush();
          });
        }
        return;
      }
      if (status !== HV_STATUS.SUCCESS) throw new Error(`postMessage failed with ${status}`);
      this.backlog.shift();
      this.afterEach();
    }
  }
}

function runHost(port: MessagePort, partition: Partition): void {
  const { host, sint } = TOPOLOGY;
  partition.createMessagePort(host.messagePort, { vp: 0, sint });
  partition.createEventPort(host.eventPort, { vp: 0, sint, baseFlagNumber: host.eventBase });
  const echo = new OrderedSender(partition, TOPOLOGY.hostToGuestMessages);
  let events = 0;
  const flags = new Set<number>();
  partition.onEvent(0, sint, (flag) => {
    events++;
    flags.add(flag);
  });
  partition.onMessage(0, sint, (message) => {
    const value = message.payload[0]!;
    if (value === TOPOLOGY.pokeByte) {
      port.postMessage({ cmd: 'woken', drains: partition.stats.drains });
      return;
    }
    echo.send(message.payload);
    const status = partition.signalEvent(TOPOLOGY.hostToGuestEvents, value);
    if (status !== HV_STATUS.SUCCESS) throw new Error(`signalEvent failed with ${status}`);
  });
  port.on('message', (command: WorkerCommand) => {
    if (command.cmd === 'idle') {
      const drains = partition.stats.drains;
      const cpu = process.cpuUsage();
      setTimeout(() => {
        const used = process.cpuUsage(cpu);
        port.postMessage({
          cmd: 'idle-result',
          drainsWhileIdle: partition.stats.drains - drains,
          cpuMicros: used.user + used.system,
          events,
          flags: [...flags],
        });
      }, command.ms);
    }
  });
  port.postMessage({ cmd: 'ready' });
}

function runGuest(port: MessagePort, partition: Partition): void {
  const { guest, sint, guestEventSint } = TOPOLOGY;
  partition.createMessagePort(guest.messagePort, { vp: guest.vp, sint });
  partition.createEventPort(guest.eventPort, { vp: guest.vp, sint: guestEventSint, baseFlagNumber: 0, flagCount: 2048 });
  const echoes: number[] = [];
  const flags: number[] = [];
  let expected = 0;
  const report = (): void => {
    if (expected > 0 && echoes.length === expected && flags.length === expected) {
      port.postMessage({ cmd: 'done', echoes, flags: [...flags].sort((a, b) => a - b), portIds: [...portIds] });
    }
  };
  const portIds = new Set<number>();
  partition.onMessage(guest.vp, sint, (message) => {
    echoes.push(message.payload[0]!);
    portIds.add(message.portId);
    report();
  });
  partition.onEvent(guest.vp, guestEventSint, (flag) => {
    flags.push(flag);
    report();
  });
  const sender = new OrderedSender(partition, TOPOLOGY.guestToHostMessages, () => {
    const status = partition.signalEvent(TOPOLOGY.guestToHostEvents);
    if (status !== HV_STATUS.SUCCESS) throw new Error(`signalEvent failed with ${status}`);
  });
  port.on('message', (command: WorkerCommand) => {
    if (command.cmd === 'ping') {
      expected = command.count;
      for (let i = 0; i < command.count; i++) sender.send(Uint8Array.of(i, 0xa5));
    } else if (command.cmd === 'poke') {
      sender.send(Uint8Array.of(TOPOLOGY.pokeByte));
    }
  });
  port.postMessage({ cmd: 'ready' });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const setup = workerData as WorkerSetup;
  const hv = attachHypervisor(setup.descriptor);
  const partition = hv.partition(setup.role === 'host' ? TOPOLOGY.host.id : TOPOLOGY.guest.id);
  port.on('message', (command: WorkerCommand) => {
    if (command.cmd !== 'close') return;
    hv.close();
    // With its handlers stopped and this port closed, nothing keeps the thread alive: it must exit by itself.
    port.close();
  });
  if (setup.role === 'host') runHost(port, partition);
  else runGuest(port, partition);
}
