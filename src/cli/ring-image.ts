/**
 * A ring image in a file: control page + data pages at some byte offset (a
 * dump, or a mapped `/dev/uio` ring region). Loaded whole into memory, worked
 * on with the ring engine, and written back only in the bytes the command
 * changed, and only when the command succeeded: a failed command leaves the
 * file as it was.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { RING_PAGE_SIZE } from '../wire/ring-control.js';
import { FlatRingMemory } from '../ring/index.js';
import { CliError } from './cli-error.js';

export interface RingLocation {
  readonly file: string;
  /** Byte offset of the control page in the file (page-aligned in a mapped region, any in a dump). */
  readonly offset: number;
  /** Pages of the ring, control page included; undefined: to the end of the file. */
  readonly pages: number | undefined;
}

export class RingImage {
  readonly memory: FlatRingMemory;
  readonly bytes: Uint8Array;

  private constructor(readonly location: RingLocation, bytes: Uint8Array) {
    this.bytes = bytes;
    this.memory = new FlatRingMemory(bytes);
  }

  static load(location: RingLocation): RingImage {
    const fd = openOrFail(location.file, 'r');
    try {
      const size = fstatSync(fd).size;
      const available = size - location.offset;
      const pages = location.pages ?? Math.floor(available / RING_PAGE_SIZE);
      if (pages < 2) throw new CliError(`${location.file}: a ring needs a control page and at least one data page`);
      const length = pages * RING_PAGE_SIZE;
      if (location.offset + length > size) {
        throw new CliError(`${location.file}: ${pages} pages at offset ${location.offset} run past the end of the file (${size} bytes)`);
      }
      const bytes = new Uint8Array(length);
      if (readSync(fd, bytes, 0, length, location.offset) !== length) throw new CliError(`${location.file}: short read`);
      return new RingImage(location, bytes);
    } finally {
      closeSync(fd);
    }
  }

  /** Writes back `[start, end)` byte ranges of the image (offsets within the ring). */
  store(ranges: readonly (readonly [number, number])[]): void {
    const fd = openOrFail(this.location.file, 'r+');
    try {
      for (const [start, end] of ranges) {
        if (end > start) writeSync(fd, this.bytes, start, end - start, this.location.offset + start);
      }
    } finally {
      closeSync(fd);
    }
  }
}

function openOrFail(file: string, flags: string): number {
  try {
    return openSync(file, flags);
  } catch (e) {
    throw new CliError(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
