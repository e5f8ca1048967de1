/**
 * Restoring a server under test: a new server from saved bytes over the same
 * guest memory, with its own recording notifier and trace, as a new host
 * process would be.
 */
import assert from 'node:assert/strict';
import { RecordingTrace } from '../../../src/trace/index.js';
import { SavedStateError, VmbusServer, type OfferParams, type ServerOptions } from '../../../src/bus/server/index.js';
import { RecordingNotifier, guest, type Env } from './harness.js';

export function tryRestore(
  from: Env,
  saved: Uint8Array,
  options: Partial<Omit<ServerOptions, 'memory' | 'notifier' | 'trace'>> = {},
): Env | SavedStateError {
  const notifier = new RecordingNotifier();
  const trace = new RecordingTrace();
  const server = VmbusServer.restore({ memory: from.memory, notifier, trace, ...options }, saved);
  if (server instanceof SavedStateError) return server;
  return {
    server,
    notifier,
    trace,
    memory: from.memory,
    send: (message, connectionId) => server.receiveMessage(message instanceof Uint8Array ? message : guest(message), connectionId),
  };
}

/** Saves `env`'s server and restores it into a new one (which is restoring). */
export function saveAndRestore(env: Env, options: Partial<Omit<ServerOptions, 'memory' | 'notifier' | 'trace'>> = {}): Env {
  const saved = env.server.save();
  assert.ok(saved instanceof Uint8Array, 'save succeeded');
  const restored = tryRestore(env, saved, options);
  assert.ok(!(restored instanceof SavedStateError), restored instanceof SavedStateError ? restored.message : '');
  return restored;
}

/** The bytes `save` returned; fails the test on a refusal. */
export function saved(env: Env): Uint8Array {
  const bytes = env.server.save();
  assert.ok(bytes instanceof Uint8Array, 'save succeeded');
  return bytes;
}

/**
 * Re-offers `offers` on a restoring server (their keys match the saved
 * channels), claims each restored channel as the guest has it (open when
 * open, closed when closed or still opening) and ends the restore.
 */
export function reclaim(env: Env, offers: readonly OfferParams[]): number[] {
  const offerIds = offers.map((params) => {
    const offerId = env.server.offerChannel(params);
    assert.equal(typeof offerId, 'number', `offer ${params.instanceId}`);
    const restored = env.server.restoredChannel(offerId as number);
    if (restored !== undefined) assert.equal(env.server.claimRestoredChannel(offerId as number, restored.state === 'open'), undefined);
    return offerId as number;
  });
  assert.equal(env.server.finishRestore(), undefined);
  return offerIds;
}
