/**
 * The demo as a library user runs it: a VM whose host offers the Hyper-V
 * integration components and the example device, a guest that binds their
 * drivers, a live phase and a clean shutdown, reported as JSON-ready events.
 * `kmcl demo` prints these events; a test or a dashboard can consume them.
 */
export { runDemo, BOOT_TIMEOUT_MS, type DemoOptions } from './run-demo.js';
export { DEMO_CHANNEL_COUNT, type DemoChannel, type DemoEvent, type DemoEventName, type DemoFailure, type DemoPartition, type DemoSummary } from './demo-events.js';
export { DemoError, describeDemoFailure, describeError } from './demo-error.js';
export { DEMO_KVP_AUTO_KEYS, DEMO_KVP_SETS } from './kvp-exchange.js';
export { SIMULATED_EPOCH_MS, SIMULATED_GUEST_CLOCK_LAG_MS } from './demo-clocks.js';
export { TrafficMeter, type MeteredChannel, type Traffic } from './traffic-meter.js';
