/**
 * The simulated hypervisor: partitions, SynIC message slots and event flags,
 * ports and connections, monitor pages, and the scheduler seam that runs the
 * same partition code in one seeded thread or across worker threads.
 */
export { HV_STATUS, hvStatusName, type HvStatus } from './hv-status.js';
export {
  EVENT_FLAG_COUNT,
  EVENT_FLAGS_BYTES_PER_SINT,
  FIRST_PORT_SINT,
  HV_MESSAGE_FLAG_PENDING,
  HV_MESSAGE_LAYOUT,
  HV_MESSAGE_PAYLOAD_MAX,
  HV_MESSAGE_SIZE,
  HVMSG_NONE,
  SINT_COUNT,
  SYNIC_PAGE_SIZE,
  type HvMessage,
} from './synic-message.js';
export {
  MONITOR_GROUP_COUNT,
  MONITOR_ID_COUNT,
  MONITOR_IDS_PER_GROUP,
  MONITOR_LATENCY_MAX,
  MONITOR_PAGE_LAYOUT,
  MONITOR_PAGE_SIZE,
  MonitorPage,
  type MonitorParameter,
} from './monitor-page.js';
export { MonitoredNotifications } from './monitored-notifications.js';
export { HV_ID_LIMIT, HV_PORT_TYPE } from './port-table.js';
export {
  MAX_PARTITIONS,
  MAX_VPS,
  type HvLimits,
  type HypervisorConfig,
  type PartitionConfig,
  type SharedHypervisorDescriptor,
} from './hv-memory.js';
export type { HvScheduler } from './scheduler.js';
export { scheduleOnEventLoop } from './event-loop-timer.js';
export { SeededScheduler } from './seeded-scheduler.js';
export {
  Partition,
  type EventHandler,
  type EventPortOptions,
  type MessageHandler,
  type MessageHandlerOptions,
  type MessagePortOptions,
  type PartitionStats,
  type PortRef,
} from './partition.js';
export { Hypervisor, attachHypervisor, createHypervisor, type HvDelivery } from './hypervisor.js';
