/**
 * Trace sinks per guest: every event of a guest's partition (its bus, its
 * KMCL, its host bus on the host side) carries `detail.vmGuest`, so one trace
 * of a VM with several guests still says whose event each one is.
 */
import { NULL_TRACE, type TraceEvent, type TraceSink } from '../trace/index.js';

/** `sink`, with `detail.vmGuest = guest` added to every event; NULL_TRACE stays NULL_TRACE (layers skip tracing work for it). */
export function guestTrace(sink: TraceSink, guest: string): TraceSink {
  if (sink === NULL_TRACE) return NULL_TRACE;
  return {
    emit: (event: TraceEvent) => sink.emit({ ...event, detail: { ...event.detail, vmGuest: guest } }),
  };
}

/** A VM-layer event: what the VM did with a partition (booted it, stopped it). */
export function vmEvent(sink: TraceSink, source: string, kind: string, detail?: TraceEvent['detail']): void {
  sink.emit({ layer: 'vm', source, kind, ...(detail === undefined ? {} : { detail }) });
}
