/**
 * Trace exporter: one JSON object per line. bigint values become decimal
 * strings so the output stays exact and parseable by any JSON reader.
 */
import type { TraceEvent, TraceSink } from './trace.js';

export function traceEventToJson(event: TraceEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** A sink that writes JSON lines to `write` (e.g. `(s) => process.stdout.write(s)`). */
export function jsonLinesTrace(write: (line: string) => void): TraceSink {
  return { emit: (event) => write(traceEventToJson(event) + '\n') };
}
