/**
 * The scale benchmark's echo device, as a driver's protocol header would
 * define it: its class and instance GUIDs (one instance per channel), and the
 * words the VM's owner shares with every guest's VSC (a SharedArrayBuffer in
 * the guest's `data`): go and stop flags, a failure count, and one completion
 * counter per channel.
 */

/** The echo device class (a bench GUID: no protocol behind it beyond "complete every request"). */
export const ECHO_INTERFACE = 'ec40ec40-5ca1-4e00-8000-000000000000';

/** The instance GUID of echo channel `index` (0-based, < 2^32). */
export function echoInstance(index: number): string {
  return `ec40ec40-5ca1-4e00-8000-${index.toString(16).padStart(12, '0')}`;
}

/** Each group of words on its own 64-byte line, so counters of one guest do not slow another's through false sharing. */
const LINE_WORDS = 16;

export const ECHO_WORD = {
  /** Set by the owner once every guest is ready: the VSCs start their windows. */
  go: 0,
  /** Set by the owner when measuring is over: completions stop sending again. */
  stop: 1,
  /** Completions that came back with a failure status while traffic ran. */
  failures: 2,
  /** Where the first guest's counters start. */
  counters: LINE_WORDS,
} as const;

/** A guest's counter region: its first word, rounded to a line so guests never share one. */
export function counterBase(guestIndex: number, channelsPerGuest: number): number {
  return ECHO_WORD.counters + guestIndex * Math.ceil(channelsPerGuest / LINE_WORDS) * LINE_WORDS;
}

/** A zeroed control block for `guests` guests of `channelsPerGuest` echo channels each. */
export function allocateEchoControl(guests: number, channelsPerGuest: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(counterBase(guests, channelsPerGuest) * 4));
}

/** What an echo VSC is handed (`GuestSpec.data`, structured-cloned: the control block stays shared). */
export interface EchoVscData {
  readonly channels: number;
  readonly window: number;
  readonly payloadBytes: number;
  readonly control: Int32Array;
  /** This guest's first counter in `control`. */
  readonly counterBase: number;
}
