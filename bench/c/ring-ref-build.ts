import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// This file runs as dist/bench/c/ring-ref-build.js; the C sources stay in bench/c/.
const REPO_ROOT = new URL('../../../', import.meta.url);
const SOURCE = fileURLToPath(new URL('bench/c/ring-ref.c', REPO_ROOT));
const BUILD_DIR = fileURLToPath(new URL('bench/build/', REPO_ROOT));
const BINARY = fileURLToPath(new URL('bench/build/ring-ref', REPO_ROOT));

/** The compiled C reference, or why there is none. */
export type RingRefBuild =
  | { readonly kind: 'built'; readonly binary: string; readonly compiler: string }
  | { readonly kind: 'skipped'; readonly note: string };

/**
 * Compiles `bench/c/ring-ref.c` with the system `cc -O2 -pthread` into
 * `bench/build/`. A machine without `cc`, or where it fails, skips the C
 * reference with a note instead of failing the benchmark.
 */
export function buildRingRef(): RingRefBuild {
  const version = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined) {
    return { kind: 'skipped', note: `C reference skipped: no system C compiler (cc): ${version.error.message}` };
  }
  mkdirSync(BUILD_DIR, { recursive: true });
  const build = spawnSync('cc', ['-O2', '-pthread', '-std=c11', '-o', BINARY, SOURCE], { encoding: 'utf8' });
  if (build.error !== undefined || build.status !== 0) {
    const why = build.error?.message ?? build.stderr.trim().split('\n').slice(0, 3).join(' | ');
    return { kind: 'skipped', note: `C reference skipped: cc could not build ${SOURCE}: ${why}` };
  }
  return { kind: 'built', binary: BINARY, compiler: version.stdout.split('\n')[0]?.trim() ?? 'cc' };
}
