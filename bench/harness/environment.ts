import { cpus, platform, arch } from 'node:os';

import type { BenchEnvironment } from './bench-result.js';

/** Describes this machine and runtime. */
export function captureEnvironment(): BenchEnvironment {
  const cores = cpus();
  return {
    node: process.version,
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    platform: platform(),
    arch: arch(),
  };
}
