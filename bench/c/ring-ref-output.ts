import type { LatencyMeasurement, ThroughputMeasurement } from '../ring/ring-measurement.js';

/** Why a line `ring-ref` printed could not be used. */
export interface RingRefOutputError {
  readonly error: string;
}

const THROUGHPUT_FIELDS = [
  'payloadBytes',
  'packets',
  'seconds',
  'signalsToReader',
  'signalsToWriter',
  'readerSleeps',
  'writerSleeps',
  'writerSpins',
  'writerSpinsTimedOut',
  'readerSpins',
  'readerSpinsTimedOut',
  'writerRingingNs',
  'writerAsleepNs',
  'writerSpinningNs',
  'readerRingingNs',
  'readerAsleepNs',
  'readerSpinningNs',
] as const;

/** Parses the JSON line of `ring-ref throughput`; a missing field or non-number is reported, never thrown. */
export function parseThroughputLine(line: string): ThroughputMeasurement | RingRefOutputError {
  const entry = parseObject(line);
  if (typeof entry === 'string') return { error: entry };
  for (const field of THROUGHPUT_FIELDS) {
    if (!isNonNegative(entry[field])) return { error: `ring-ref throughput has no valid ${field}` };
  }
  // Every field was checked to be a number just above.
  const value = (field: (typeof THROUGHPUT_FIELDS)[number]): number => entry[field] as number;
  return {
    payloadBytes: value('payloadBytes'),
    packets: value('packets'),
    seconds: value('seconds'),
    signalsToReader: value('signalsToReader'),
    signalsToWriter: value('signalsToWriter'),
    readerSleeps: value('readerSleeps'),
    writerSleeps: value('writerSleeps'),
    spins: {
      writer: value('writerSpins'),
      writerTimedOut: value('writerSpinsTimedOut'),
      reader: value('readerSpins'),
      readerTimedOut: value('readerSpinsTimedOut'),
    },
    doorbellNanos: {
      writerRinging: value('writerRingingNs'),
      writerAsleep: value('writerAsleepNs'),
      writerSpinning: value('writerSpinningNs'),
      readerRinging: value('readerRingingNs'),
      readerAsleep: value('readerAsleepNs'),
      readerSpinning: value('readerSpinningNs'),
    },
  };
}

/** Parses the JSON line of `ring-ref latency`; anything malformed is reported, never thrown. */
export function parseLatencyLine(line: string): LatencyMeasurement | RingRefOutputError {
  const entry = parseObject(line);
  if (typeof entry === 'string') return { error: entry };
  const { requestBytes, completionBytes, samplesNs } = entry;
  if (!isCount(requestBytes) || !isCount(completionBytes)) return { error: 'ring-ref latency has no packet sizes' };
  if (!Array.isArray(samplesNs) || samplesNs.length === 0 || !samplesNs.every(isNonNegative)) {
    return { error: 'ring-ref latency samples are missing or not numbers' };
  }
  return { requestBytes, completionBytes, samplesNs: samplesNs as number[] };
}

/** The line's JSON object, or why it is not one. */
function parseObject(line: string): Record<string, unknown> | string {
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch (error) {
    return `ring-ref output is not JSON: ${(error as Error).message}`;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return 'ring-ref output is not a JSON object';
  }
  return document as Record<string, unknown>;
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isCount(value: unknown): value is number {
  return isNonNegative(value) && Number.isInteger(value);
}
