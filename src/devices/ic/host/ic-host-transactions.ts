/**
 * The host side of one IC channel as promises: the protocol's `IcHostSession`
 * (negotiate, then one transaction at a time) driven by the channel's open,
 * close and received packets, with a FIFO of waiting requests. Every request
 * ends exactly once: with the guest's answer, or with an `IcTransactionError`
 * saying why not (the channel closed, no common version, a malformed answer,
 * the optional timeout). Knows nothing of KMCL: `ic-host-channel.ts` feeds it.
 */
import type { KmclScheduler } from '../../../index.js';
import { WireError } from '../../../wire/index.js';
import {
  IC_STATUS,
  IcHostSession,
  formatIcVersion,
  type IcHostService,
  type IcStatusResult,
  type IcVersionLists,
  type IcVersions,
} from '../protocol/index.js';

/** Why a host request did not get the guest's answer. */
export type IcTransactionFailure =
  /** The channel is not open, or closed before the answer came. */
  | 'closed'
  /** Version negotiation failed (no common version, or a bad answer). */
  | 'not-negotiated'
  /** The guest's answer was malformed. */
  | 'malformed'
  /** No answer within the configured timeout. */
  | 'timeout'
  /** The request itself could not be encoded (a value out of its wire range). */
  | 'bad-request'
  /** The guest answered with a failure status (see `status`); raised by the services that treat one as an error. */
  | 'guest-status';

export class IcTransactionError extends Error {
  override readonly name = 'IcTransactionError';
  constructor(
    readonly reason: IcTransactionFailure,
    message: string,
    /** The wire problem behind a 'malformed', 'not-negotiated' or 'bad-request' failure. */
    readonly wireError?: WireError,
    /** The guest's IC status behind a 'guest-status' failure. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The IC status of a status-only answer (shutdown, time sync): IC_STATUS.HV_S_OK or the guest's failure. */
export function icResultStatus(result: IcStatusResult): number {
  return result.ok ? IC_STATUS.HV_S_OK : result.status;
}

export interface IcHostTransactionsOptions<Req, Res> {
  readonly service: IcHostService<Req, Res>;
  /** The versions offered (default: the service's host offer, `icHostOffer`). */
  readonly offer?: IcVersionLists | undefined;
  readonly scheduler: KmclScheduler;
  /** Fail a transaction (and negotiate afresh) after this long without an answer, 100 ns units; 0 or absent: never. */
  readonly timeout100ns?: number | undefined;
  readonly onNegotiated?: ((versions: IcVersions) => void) | undefined;
  /** No common version, or a bad negotiation answer: the host reports it here and fails waiting requests. */
  readonly onNegotiationFailed?: ((error: WireError) => void) | undefined;
  /** A packet from the guest that was dropped or failed a transaction. */
  readonly onRejected?: ((error: WireError) => void) | undefined;
}

interface Pending<Req, Res> {
  readonly request: Req;
  readonly resolve: (result: Res) => void;
  readonly reject: (error: IcTransactionError) => void;
}

interface ReadyWaiter {
  readonly resolve: (versions: IcVersions) => void;
  readonly reject: (error: IcTransactionError) => void;
}

/** Sends one packet to the guest; false when it could not be sent. */
export type IcHostSend = (packet: Uint8Array) => boolean;

export class IcHostTransactions<Req, Res> {
  readonly #options: IcHostTransactionsOptions<Req, Res>;
  readonly #session: IcHostSession<Req, Res>;
  readonly #queue: Pending<Req, Res>[] = [];
  readonly #readyWaiters: ReadyWaiter[] = [];
  #current: Pending<Req, Res> | undefined;
  #send: IcHostSend | undefined;
  /** Cancels the timeout of what was last sent; undefined when none runs. */
  #cancelTimeout: (() => void) | undefined;
  /** Why the configured offer cannot be sent (no version list, or more than 100 versions): nothing can be negotiated. */
  #offerError: WireError | undefined;

  constructor(options: IcHostTransactionsOptions<Req, Res>) {
    this.#options = options;
    this.#session =
      options.offer === undefined ? new IcHostSession(options.service) : new IcHostSession(options.service, options.offer);
  }

  /** 'closed' while the channel is not open; else the session's state. */
  get state(): 'closed' | 'negotiating' | 'ready' | 'failed' {
    if (this.#send === undefined) return 'closed';
    if (this.#offerError !== undefined) return 'failed';
    const state = this.#session.state;
    return state === 'idle' ? 'negotiating' : state;
  }

  get versions(): IcVersions | undefined {
    return this.#send === undefined ? undefined : this.#session.versions;
  }

  /** Requests sent or waiting, not yet ended. */
  get pending(): number {
    return this.#queue.length + (this.#current === undefined ? 0 : 1);
  }

  /** The channel opened: negotiate (every opening restarts the protocol). */
  opened(send: IcHostSend): void {
    this.#send = send;
    this.#negotiate();
  }

  /** The channel closed (or its device stops): every waiting request and `whenReady` ends with 'closed', and no timeout is left. */
  closed(): void {
    this.#send = undefined;
    this.#disarm();
    this.#failAll(new IcTransactionError('closed', `the ${this.#name} channel closed`));
  }

  /** Resolves with the versions once negotiated (at once if they are); rejects if negotiation fails or the channel closes. */
  whenReady(): Promise<IcVersions> {
    const versions = this.versions;
    if (this.state === 'ready' && versions !== undefined) return Promise.resolve(versions);
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Queues a transaction; it goes out when the channel is ready and the one before it has ended. */
  request(request: Req): Promise<Res> {
    if (this.#send === undefined) return Promise.reject(new IcTransactionError('closed', `the ${this.#name} channel is not open`));
    if (this.state === 'failed') return Promise.reject(this.#notNegotiated(this.#offerError));
    return new Promise<Res>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#pump();
    });
  }

  /** One packet from the guest; dropped once closed (a late negotiation answer must not restart a stopped service). */
  receive(packet: Uint8Array): void {
    if (this.#send === undefined) return;
    const receipt = this.#session.receive(packet);
    switch (receipt.kind) {
      case 'negotiated':
        this.#disarm();
        this.#options.onNegotiated?.(receipt.versions);
        for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve(receipt.versions);
        this.#pump();
        return;
      case 'response':
        this.#disarm();
        this.#end()?.resolve(receipt.result);
        this.#pump();
        return;
      case 'stale':
        this.#options.onRejected?.(receipt.error);
        return;
      case 'rejected':
        this.#options.onRejected?.(receipt.error);
        if (this.#session.state === 'failed') {
          this.#disarm();
          this.#options.onNegotiationFailed?.(receipt.error);
          this.#failAll(this.#notNegotiated(receipt.error));
        } else if (receipt.request !== undefined) {
          this.#disarm();
          const message = `malformed ${this.#name} answer: ${receipt.error.message}`;
          this.#end()?.reject(new IcTransactionError('malformed', message, receipt.error));
          this.#pump();
        }
    }
  }

  get #name(): string {
    return this.#options.service.spec.name;
  }

  #notNegotiated(cause?: WireError): IcTransactionError {
    const offer = this.#session.offer.message.map(formatIcVersion).join(', ');
    const why = cause === undefined ? '' : `: ${cause.message}`;
    return new IcTransactionError('not-negotiated', `no ${this.#name} version agreed (host offered ${offer})${why}`, cause);
  }

  #end(): Pending<Req, Res> | undefined {
    const current = this.#current;
    this.#current = undefined;
    return current;
  }

  #failAll(error: IcTransactionError): void {
    const current = this.#end();
    for (const waiting of [...(current === undefined ? [] : [current]), ...this.#queue.splice(0)]) waiting.reject(error);
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(error);
  }

  #negotiate(): void {
    const send = this.#send;
    if (send === undefined) return;
    const packet = this.#session.negotiate();
    // Our own offer lists: they encode unless the caller configured an impossible offer.
    if (packet instanceof WireError) {
      this.#offerError = packet;
      this.#options.onNegotiationFailed?.(packet);
      this.#failAll(this.#notNegotiated(packet));
      return;
    }
    this.#arm();
    if (!send(packet)) this.closed();
  }

  /** Sends the next queued request if the channel is ready and no transaction is open. */
  #pump(): void {
    const send = this.#send;
    if (send === undefined || this.#current !== undefined || this.#session.state !== 'ready') return;
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      // Ready with nothing outstanding: the session can refuse only a request it cannot encode.
      const packet = this.#session.request(next.request);
      if (!(packet instanceof Uint8Array)) {
        const cause = packet instanceof WireError ? packet : undefined;
        next.reject(new IcTransactionError('bad-request', `${this.#name} request not sent: ${packet.message}`, cause));
        continue;
      }
      this.#current = next;
      this.#arm();
      if (!send(packet)) this.closed();
      return;
    }
  }

  /** Starts the timeout for what was just sent (replacing the one before), if there is one. */
  #arm(): void {
    this.#disarm();
    const timeout = this.#options.timeout100ns ?? 0;
    if (timeout <= 0) return;
    this.#cancelTimeout = this.#options.scheduler.schedule(() => {
      this.#cancelTimeout = undefined;
      const error = new IcTransactionError('timeout', `no ${this.#name} answer within ${timeout / 10_000} ms`);
      this.#end()?.reject(error);
      // The late answer could not be told from the next one: start the protocol afresh.
      this.#negotiate();
    }, timeout);
  }

  /** The wait is over (answered, failed or closed): its timeout must not fire. */
  #disarm(): void {
    this.#cancelTimeout?.();
    this.#cancelTimeout = undefined;
  }
}
