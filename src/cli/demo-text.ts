/**
 * `kmcl demo` for people: the demo's events as a header, the channel table
 * once every driver is bound, one line per live event (time on the VM's
 * clock, what happened), and the summary. Events that come while the
 * channels are still coming up (a first heartbeat, the first time sync) are
 * held and shown under the table.
 */
import { describeDemoFailure } from '../demo/demo-error.js';
import type { DemoChannel, DemoEvent, DemoSummary } from '../demo/demo-events.js';
import { channelTable } from './demo-table.js';

export class DemoTextView {
  #connected = '';
  #ready = false;
  readonly #channels: DemoChannel[] = [];
  readonly #held: string[] = [];

  /** The lines `event` adds to the output, in order (none while they are held). */
  render(event: DemoEvent): string[] {
    switch (event.event) {
      case 'demo-start':
        return [event.mode === 'workers' ? 'kmcl demo: one guest partition in a worker thread' : `kmcl demo: host and guest in one thread, seed ${String(event.seed)}, virtual time`];
      case 'vmbus-connected':
        this.#connected = `guest "${event.guest}" connected with VMBus ${event.version}`;
        return [];
      case 'channel':
        this.#channels.push(event);
        return [];
      case 'ready': {
        this.#ready = true;
        const held = this.#held.splice(0);
        return ['', `${this.#connected}; its drivers bound ${event.channels} channels by class GUID:`, '', ...channelTable(this.#channels), '', ...held];
      }
      case 'summary':
        return ['', summaryLine(event)];
      default: {
        const line = liveLine(event);
        if (line === null) return [];
        if (this.#ready) return [line];
        this.#held.push(line);
        return [];
      }
    }
  }
}

/** The last line: what flowed and how many errors (0 for a clean run). */
export function summaryLine(summary: DemoSummary): string {
  const counts = [
    count(summary.channels, 'channel'),
    count(summary.packets, 'packet'),
    count(summary.bytes, 'byte'),
    count(summary.completions, 'completion'),
    count(summary.heartbeats, 'heartbeat'),
    count(summary.timeSamples, 'time sample'),
    count(summary.kvpTransactions, 'KVP transaction'),
  ];
  return `summary: ${counts.join(', ')}; guest exit ${summary.guestExit}; errors = ${summary.errors}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}


function at(t: number, tag: string, text: string): string {
  return `${(t / 1000).toFixed(3).padStart(8)}s  ${tag.padEnd(9)}  ${text}`;
}

function signedMs(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${ms.toFixed(3)} ms`;
}

function liveLine(event: DemoEvent): string | null {
  switch (event.event) {
    case 'heartbeat':
      return at(event.t, 'heartbeat', `#${event.sequence}, guest ${event.state}`);
    case 'time-sync':
      return at(
        event.t,
        'time sync',
        `${event.kind.toUpperCase()} host clock ${event.hostTime}, guest offset ${signedMs(event.offsetMs)}${event.clockSet ? ' (guest set its clock)' : ''}`,
      );
    case 'example-device':
      return at(
        event.t,
        'checksum',
        `protocol ${event.version}, welcome #${event.welcome}, ${event.echoes} echoes, host checksummed ${event.checksumBytes} bytes ` +
          `of guest memory = ${event.checksum}, wrote "${event.greeting}" into GPADL ${event.gpadlId}`,
      );
    case 'kvp-set':
      return at(event.t, 'kvp', `SET ${event.pool} pool: ${event.key} = "${event.value}"`);
    case 'kvp-get':
      return at(event.t, 'kvp', `GET ${event.pool} pool: ${event.key} = ${event.value === null ? '(no such key)' : `"${event.value}"`}`);
    case 'kvp-enumerate':
      return at(event.t, 'kvp', `ENUMERATE ${event.pool} pool [${event.index}]: ${event.key} = "${event.value}"`);
    case 'kvp-enumerate-end':
      return at(event.t, 'kvp', `ENUMERATE ${event.pool} pool [${event.count}]: no more items (${event.status})`);
    case 'shutdown-request':
      return at(event.t, 'shutdown', `host asks the guest to ${event.kind.replace('-', ' ')} (${event.reason}): "${event.message}"`);
    case 'shutdown-answer':
      return at(event.t, 'shutdown', `guest answered ${event.status}`);
    case 'guest-shutdown':
      return at(event.t, 'shutdown', `guest unloaded its drivers and powers off`);
    case 'guest-stopped':
      return at(
        event.t,
        'shutdown',
        `guest unloaded its VMBus (exit: ${event.exit}); ${event.openChannels} channels open, ${event.busPages} ring and monitor pages, ${String(event.pagesAllocated)} pages still allocated`,
      );
    case 'host-closed':
      return at(event.t, 'shutdown', `host bus ${event.connection}: ${event.offers} offers, ${event.channels} channels, ${event.gpadls} GPADLs left`);
    case 'error':
      return at(event.t, 'ERROR', describeDemoFailure(event));
    default:
      return null;
  }
}
