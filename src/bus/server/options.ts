/**
 * How a server is set up: the guest memory its GPADLs describe, where its
 * output goes, and the limits it negotiates under.
 */
import type { GuestMemory } from '../../memory/index.js';
import type { TraceSink } from '../../trace/index.js';
import { ALL_FEATURE_FLAGS, FEATURE_FLAG, VMBUS_MESSAGE_CONNECTION_ID } from '../../wire/messages/index.js';
import type { MonitorPages, ServerNotifier } from './notifier.js';

/**
 * The feature flags OpenVMM's server always supports (channels.rs:1336-1342),
 * without server_specified_monitor_pages, which needs `serverMonitorPages`.
 * confidential_channels and gpa_pinning are only supported when configured.
 */
export const DEFAULT_SERVER_FEATURES =
  FEATURE_FLAG.GUEST_SPECIFIED_SIGNAL_PARAMETERS |
  FEATURE_FLAG.CHANNEL_INTERRUPT_REDIRECTION |
  FEATURE_FLAG.MODIFY_CONNECTION |
  FEATURE_FLAG.CLIENT_ID |
  FEATURE_FLAG.PAUSE_RESUME;

export interface ServerOptions {
  /** The guest's memory: GPADL ranges are checked against it and registered in a table over it. */
  readonly memory: GuestMemory;
  readonly notifier: ServerNotifier;
  /** Where rejected and dropped messages are reported; default: nowhere. */
  readonly trace?: TraceSink;
  /** The VTL this server serves (default 0); contact requests for another VTL are handed on. */
  readonly vtl?: number;
  /** Refuse versions above this one, to emulate an older host (OpenVMM `max_version`). */
  readonly maxVersion?: number;
  /**
   * Copper feature flags offered (default DEFAULT_SERVER_FEATURES, plus
   * server_specified_monitor_pages when `serverMonitorPages` is given); unknown bits are ignored.
   */
  readonly features?: number;
  /**
   * Monitor pages the server provides; with them the server supports
   * server_specified_monitor_pages and answers with VersionResponse3 (PR #1980).
   */
  readonly serverMonitorPages?: MonitorPages;
  /** The message connection id a 5.0+ VERSION_RESPONSE tells the guest to use (default 1, vmbus_server/src/lib.rs:292). */
  readonly messageConnectionId?: number;
}

/** Options with defaults applied and checked. */
export interface ServerConfig {
  readonly vtl: number;
  readonly maxVersion: number;
  readonly features: number;
  readonly serverMonitorPages: MonitorPages | null;
  readonly messageConnectionId: number;
}

/** Applies defaults. Throws on a nonsensical setting: that is a setup bug, not peer input. */
export function resolveOptions(options: ServerOptions): ServerConfig {
  const vtl = options.vtl ?? 0;
  const maxVersion = options.maxVersion ?? 0xffff_ffff;
  const messageConnectionId = options.messageConnectionId ?? VMBUS_MESSAGE_CONNECTION_ID;
  // VTLs 0..2 are the ones that exist; connection ids are 24-bit (linux-vmbus.md §A.3.1).
  if (!Number.isInteger(vtl) || vtl < 0 || vtl > 2) throw new RangeError(`vtl must be 0, 1 or 2, got ${vtl}`);
  if (!isU32(maxVersion)) throw new RangeError(`maxVersion is not a u32: ${maxVersion}`);
  if (!isU32(messageConnectionId) || messageConnectionId >= 1 << 24) {
    throw new RangeError(`messageConnectionId is not a 24-bit id: ${messageConnectionId}`);
  }
  const pages = options.serverMonitorPages ?? null;
  const serverPagesBit = pages === null ? 0 : FEATURE_FLAG.SERVER_SPECIFIED_MONITOR_PAGES;
  let features = (options.features ?? DEFAULT_SERVER_FEATURES | serverPagesBit) & ALL_FEATURE_FLAGS;
  // Without pages of its own the server cannot offer them, whatever `features` says.
  if (pages === null) features &= ~FEATURE_FLAG.SERVER_SPECIFIED_MONITOR_PAGES;
  return { vtl, maxVersion, features: features >>> 0, serverMonitorPages: pages, messageConnectionId };
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}
