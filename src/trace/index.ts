export type { TraceEvent, TraceLayer, TraceSink } from './trace.js';
export { NULL_TRACE, RecordingTrace, fanOut } from './trace.js';
export { jsonLinesTrace, traceEventToJson } from './json-lines.js';
