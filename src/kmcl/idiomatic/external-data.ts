/**
 * The external data of an incoming GPA-direct packet, as the idiomatic API
 * hands it out: VmbChannelPacketGetExternalData's mapping with methods that
 * throw a KmclError instead of returning a status. Valid until the packet is
 * completed.
 */
import type { Mdl } from '../../memory/index.js';
import type { ExternalDataMapping } from '../receive/external-data.js';
import { ensureSuccess } from './ensure-success.js';

export class ExternalData {
  readonly #mapping: ExternalDataMapping;

  constructor(mapping: ExternalDataMapping) {
    this.#mapping = mapping;
  }

  /** Bytes of external data (the peer's ranges one after another). */
  get byteLength(): number {
    return this.#mapping.byteLength;
  }

  get readOnly(): boolean {
    return this.#mapping.readOnly;
  }

  /** False once the packet was completed. */
  get isValid(): boolean {
    return this.#mapping.isValid;
  }

  /** The MDL chain over the ranges (one piece per range), to pass on as a driver passes an MDL down. */
  get mdl(): Mdl {
    return this.#mapping.mdl;
  }

  /** A copy of `length` bytes at `offset` (default: everything from `offset`). */
  read(offset = 0, length = this.byteLength - offset): Uint8Array {
    const bytes = new Uint8Array(Math.max(0, length));
    this.copyTo(offset, bytes);
    return bytes;
  }

  /** Copies `target.length` bytes at `offset` into `target`. */
  copyTo(offset: number, target: Uint8Array): void {
    ensureSuccess(this.#mapping.copyTo(offset, target), 'ExternalData.copyTo');
  }

  /** Writes `source` at `offset` (STATUS_ACCESS_DENIED when mapped read-only). */
  write(offset: number, source: Uint8Array): void {
    ensureSuccess(this.#mapping.copyFrom(offset, source), 'ExternalData.write');
  }
}
