/**
 * A GPADL a channel created (VmbChannelCreateGpadlFrom*): its id, which the
 * driver tells the host through its own protocol, and its deletion, which
 * waits until the host no longer maps it.
 */
import type { VMBCHANNEL } from '../types.js';
import { VmbChannelDeleteGpadl } from '../gpadl.js';
import { ensureSuccess } from './ensure-success.js';

export class Gpadl {
  readonly #channel: VMBCHANNEL;
  #deleted = false;

  constructor(
    channel: VMBCHANNEL,
    /** The GPADL handle (the id in GPADL_HEADER), as the host knows it. */
    readonly id: number,
  ) {
    this.#channel = channel;
  }

  get isDeleted(): boolean {
    return this.#deleted;
  }

  /**
   * VmbChannelDeleteGpadl: resolves once the host let go of it. KmclError
   * STATUS_INVALID_PARAMETER_2 when it is gone already (deleted, or torn down
   * with its channel's close).
   */
  async delete(): Promise<void> {
    const status = await VmbChannelDeleteGpadl(this.#channel, this.id);
    this.#deleted = true;
    ensureSuccess(status, 'VmbChannelDeleteGpadl');
  }

  /** Deletes the GPADL unless it is deleted already (a closed channel tore it down: nothing to do). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#deleted) return;
    this.#deleted = true;
    await VmbChannelDeleteGpadl(this.#channel, this.id);
  }
}
