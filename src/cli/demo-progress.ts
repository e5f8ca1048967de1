/**
 * Progress bars on stderr for the demo's slow steps (booting, shutting down,
 * and the live phase when nothing else is printed), shown only when stderr is
 * a terminal and the step is still running after SHOW_AFTER_MS, so a quick
 * step does not flash one. While a bar is up, stdout lines are held and
 * written once it is gone, so bar and output never tangle on one screen.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { DemoEvent } from '../demo/demo-events.js';

/** Where the progress goes and what it holds back. */
export interface ProgressOptions {
  /** Progress is drawn here when it is a TTY (process.stderr). */
  readonly stream: NodeJS.WriteStream;
  /** Writes one stdout line. */
  readonly write: (line: string) => void;
  /** Also show the live phase (when nothing else is printed during it), for this many seconds of real time. */
  readonly liveSeconds: number | null;
}

/** Steps of the shutdown: the answer, the guest unloading its drivers, its bus, the host's close. */
const SHUTDOWN_STEPS: Readonly<Partial<Record<DemoEvent['event'], number>>> = {
  'shutdown-answer': 1,
  'guest-shutdown': 2,
  'guest-stopped': 3,
  'host-closed': 4,
};

/** A step that ends sooner shows no bar. */
const SHOW_AFTER_MS = 300;

export class DemoProgress {
  #bar: SingleBar | null = null;
  /** Shows the step's bar, unless the step ends first. */
  #showing: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #value = 0;
  #channels = 0;
  readonly #held: string[] = [];

  constructor(private readonly options: ProgressOptions) {}

  /** Call before the demo starts: the boot bar. */
  begin(channels: number): void {
    this.#show('booting the VM', channels, 'channels ready');
  }

  /** Moves the bars along with the demo's events. */
  follow(event: DemoEvent): void {
    if (event.event === 'channel') this.#update(++this.#channels);
    else if (event.event === 'ready') this.#live();
    else if (event.event === 'shutdown-request') this.#show('shutting down', 4, 'steps');
    else if (event.event === 'summary') this.end();
    else {
      const step = SHUTDOWN_STEPS[event.event];
      if (step !== undefined) this.#update(step);
    }
  }

  /** Writes a stdout line now, or once the bar on screen is gone. */
  print(line: string): void {
    if (this.#bar === null) this.options.write(line);
    else this.#held.push(line);
  }

  /** Takes any bar down and writes what was held. Safe to call more than once. */
  end(): void {
    clearTimeout(this.#showing);
    clearInterval(this.#ticker);
    this.#showing = undefined;
    this.#ticker = undefined;
    this.#bar?.stop();
    this.#bar = null;
    for (const line of this.#held.splice(0)) this.options.write(line);
  }

  #live(): void {
    const seconds = this.options.liveSeconds;
    if (seconds === null) return this.end();
    this.#show('live phase', seconds, 's');
    const started = Date.now();
    this.#ticker = setInterval(() => this.#update(Math.min(seconds, Math.floor((Date.now() - started) / 1000))), 250);
  }

  #update(value: number): void {
    this.#value = value;
    this.#bar?.update(value);
  }

  #show(label: string, total: number, unit: string): void {
    this.end();
    this.#value = 0;
    if (this.options.stream.isTTY !== true) return;
    this.#showing = setTimeout(() => {
      const bar = new SingleBar(
        { format: `${label} [{bar}] {value}/{total} ${unit}`, stream: this.options.stream, clearOnComplete: true, barsize: 30 },
        Presets.shades_classic,
      );
      bar.start(total, this.#value);
      this.#bar = bar;
    }, SHOW_AFTER_MS);
  }
}
