/**
 * Structured trace events. Every layer reports what it did with a peer's input
 * (accepted, answered with an error, dropped) through a `TraceSink`, so a test
 * or a user can see why a message went nowhere. Tracing never changes behaviour:
 * sinks must not throw, and a layer never reads back what it traced.
 */

/** The layer that emitted an event (DESIGN.md folder names). */
export type TraceLayer = 'wire' | 'ring' | 'memory' | 'hv' | 'bus' | 'kmcl' | 'vm' | 'device';

export interface TraceEvent {
  /** Emitting layer. */
  readonly layer: TraceLayer;
  /** Which endpoint inside the layer: 'server', 'client', a partition or channel name. */
  readonly source: string;
  /** What happened, kebab-case and stable: 'message-dropped', 'gpadl-created', ... */
  readonly kind: string;
  /** Why, for rejections and drops: a sentence a person can read. */
  readonly reason?: string;
  /** Small structured details (ids, versions, statuses). Values must be JSON-friendly or bigint. */
  readonly detail?: Readonly<Record<string, string | number | boolean | bigint | null>>;
}

export interface TraceSink {
  emit(event: TraceEvent): void;
}

/** Discards every event: the default where nobody listens. */
export const NULL_TRACE: TraceSink = { emit() {} };

/** Keeps every event in order; for tests and for replay comparisons. */
export class RecordingTrace implements TraceSink {
  readonly events: TraceEvent[] = [];
  emit(event: TraceEvent): void {
    this.events.push(event);
  }
  /** Events of one kind, in order. */
  ofKind(kind: string): TraceEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }
  clear(): void {
    this.events.length = 0;
  }
}

/** Sends every event to several sinks. */
export function fanOut(...sinks: TraceSink[]): TraceSink {
  return { emit: (event) => sinks.forEach((s) => s.emit(event)) };
}
