/**
 * Loading a host or guest module from its specifier. A guest module is
 * imported in the guest's own thread, so its specifier is made absolute in
 * the calling thread first: a relative path must mean the same file in a
 * worker, whose own location is elsewhere.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleSpecifier } from './vm-types.js';

/** A specifier made absolute: plain data, safe to send to a worker. */
export interface ResolvedSpecifier {
  /** A URL (file:, data:, node:) or a bare package specifier. */
  readonly url: string;
  readonly exportName: string;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]+:/i;

/** Makes `specifier` absolute against the working directory (bare package names stay as they are). */
export function resolveSpecifier(specifier: ModuleSpecifier): ResolvedSpecifier {
  const [module, exportName] =
    typeof specifier === 'object' && !(specifier instanceof URL) ? [specifier.module, specifier.exportName] : [specifier, 'default'];
  if (module instanceof URL) return { url: module.href, exportName };
  // A drive letter ("C:\\...") also looks like a scheme; isAbsolute tells them apart on Windows.
  if (isAbsolute(module)) return { url: pathToFileURL(module).href, exportName };
  if (URL_SCHEME.test(module)) return { url: module, exportName };
  if (module.startsWith('./') || module.startsWith('../')) return { url: pathToFileURL(resolve(module)).href, exportName };
  return { url: module, exportName };
}

/** Imports the module and returns its function export; throws a TypeError naming the module when there is none. */
export async function loadModuleFunction<F extends (...args: never[]) => unknown>(specifier: ResolvedSpecifier): Promise<F> {
  const namespace = (await import(specifier.url)) as Record<string, unknown>;
  const exported = namespace[specifier.exportName];
  if (typeof exported !== 'function') {
    throw new TypeError(`module ${specifier.url} has no function export "${specifier.exportName}" (found ${typeof exported})`);
  }
  return exported as F;
}

/** True for a module given as a function rather than a specifier. */
export function isModuleFunction<F extends (...args: never[]) => unknown>(module: F | ModuleSpecifier | ResolvedSpecifier): module is F {
  return typeof module === 'function';
}
