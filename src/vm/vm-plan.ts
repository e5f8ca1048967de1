/**
 * The options of `createVm` checked and filled in with defaults, before
 * anything is built: every mistake is reported at once, as a VmError in the
 * 'options' phase, naming the guest it concerns.
 */
import { MAX_PARTITIONS, MAX_VPS, SINT_COUNT } from '../hv/index.js';
import { VMBUS_SINT, VMBUS_VERSIONS, type VmbusVersion } from '../wire/messages/index.js';
import { isModuleFunction, resolveSpecifier, type ResolvedSpecifier } from './module-loader.js';
import { VmError, type VmFailure } from './vm-error.js';
import type { GuestModule, GuestSpec, HostModule, ModuleSpecifier, VmMode, VmOptions } from './vm-types.js';

/** Each guest's host bus takes its own SINT of the host partition, from VMBUS_SINT up (host-side.ts). */
export const MAX_GUESTS = Math.min(SINT_COUNT - VMBUS_SINT, MAX_PARTITIONS - 1);
export const DEFAULT_GUEST_PAGES = 1024;
export const DEFAULT_GUEST_VPS = 1;
/** The host (root) partition's id; guests follow from 1. */
export const HOST_PARTITION_ID = 0;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export interface GuestPlan {
  readonly name: string;
  readonly index: number;
  readonly partitionId: number;
  readonly memoryPages: number;
  readonly vpCount: number;
  /** A function (single-thread mode only), a module to import in the guest's thread, or none. */
  readonly module: GuestModule | ResolvedSpecifier | null;
  readonly data: unknown;
}

export interface VmPlan {
  readonly mode: { readonly kind: 'single-thread'; readonly seed: number } | { readonly kind: 'workers'; readonly startTimeoutMs: number; readonly stopTimeoutMs: number };
  readonly guests: readonly GuestPlan[];
  readonly hostModules: readonly (HostModule | ResolvedSpecifier)[];
  readonly maxVersion: VmbusVersion | null;
}

/** The plan of a VM; throws a VmError listing every invalid option. */
export function planVm(options: VmOptions): VmPlan {
  const problems: string[] = [];
  const complain = (text: string): void => void problems.push(text);
  const mode = planMode(options.mode, complain);
  const specs = typeof options.guests === 'number' ? guestCount(options.guests, complain) : options.guests;
  if (specs.length === 0 || specs.length > MAX_GUESTS) complain(`a VM has 1 to ${MAX_GUESTS} guests, got ${specs.length}`);
  const names = new Set<string>();
  const guests = specs.map((spec, index): GuestPlan => {
    const name = spec.name ?? `guest-${index}`;
    const where = `guest "${name}"`;
    if (name.length === 0) complain(`guest ${index} has an empty name`);
    if (names.has(name)) complain(`two guests are named "${name}"`);
    names.add(name);
    const memoryPages = spec.memoryPages ?? DEFAULT_GUEST_PAGES;
    // Page 0 is never handed out (PageAllocator), so a guest needs two pages at least.
    if (!Number.isSafeInteger(memoryPages) || memoryPages < 2) complain(`${where}: memoryPages must be an integer ≥ 2, got ${memoryPages}`);
    const vpCount = spec.vpCount ?? DEFAULT_GUEST_VPS;
    if (!Number.isInteger(vpCount) || vpCount < 1 || vpCount > MAX_VPS) complain(`${where}: vpCount must be 1..${MAX_VPS}, got ${vpCount}`);
    const module = spec.module ?? options.guest ?? null;
    if (module !== null && isModuleFunction<GuestModule>(module) && mode.kind === 'workers') {
      complain(`${where}: a guest module given as a function runs only in single-thread mode; give its module specifier`);
    }
    return {
      name,
      index,
      partitionId: HOST_PARTITION_ID + 1 + index,
      memoryPages,
      vpCount,
      module: planModule(module, where, complain),
      data: spec.data,
    };
  });
  const hostList = options.host === undefined ? [] : Array.isArray(options.host) ? options.host : [options.host];
  const hostModules = (hostList as readonly (HostModule | ModuleSpecifier)[]).flatMap((module) => {
    const planned = planModule(module, 'host', complain);
    return planned === null ? [] : [planned];
  });
  const maxVersion = options.maxVersion ?? null;
  if (maxVersion !== null && !VMBUS_VERSIONS.includes(maxVersion)) complain(`maxVersion 0x${maxVersion.toString(16)} is not a VMBus version`);
  if (problems.length > 0) throw new VmError(problems.map((message): VmFailure => ({ partition: 'vm', phase: 'options', message })));
  return { mode, guests, hostModules, maxVersion };
}

function planMode(mode: VmMode, complain: (text: string) => void): VmPlan['mode'] {
  if (mode.kind === 'single-thread') {
    if (!Number.isInteger(mode.seed)) complain(`the seed must be an integer, got ${mode.seed}`);
    return { kind: 'single-thread', seed: mode.seed };
  }
  const startTimeoutMs = mode.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const stopTimeoutMs = mode.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  for (const [name, value] of [['startTimeoutMs', startTimeoutMs], ['stopTimeoutMs', stopTimeoutMs]] as const) {
    if (!Number.isFinite(value) || value <= 0) complain(`${name} must be a positive number of milliseconds, got ${value}`);
  }
  return { kind: 'workers', startTimeoutMs, stopTimeoutMs };
}

function guestCount(count: number, complain: (text: string) => void): readonly GuestSpec[] {
  if (!Number.isInteger(count) || count < 0) {
    complain(`guests must be a count or a list, got ${count}`);
    return [];
  }
  return Array.from({ length: count }, () => ({}));
}

function planModule<F extends GuestModule | HostModule>(
  module: F | ModuleSpecifier | null,
  where: string,
  complain: (text: string) => void,
): F | ResolvedSpecifier | null {
  if (module === null || typeof module === 'function') return module;
  try {
    return resolveSpecifier(module);
  } catch (error) {
    complain(`${where}: bad module specifier: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}
