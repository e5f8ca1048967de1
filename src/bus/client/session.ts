/**
 * The connection's phases and what a negotiated connection (a session) knows.
 * A session exists from the accepted VERSION_RESPONSE until the unload completes.
 */
import type { VmbusVersion } from '../../wire/messages/index.js';
import type { ConnectPlan } from './connect.js';
import type { MonitorPageGpas } from './events.js';

/** REQUEST_OFFERS not sent yet → sent, offers arriving → ALL_OFFERS_DELIVERED received (offers may still come). */
export type OfferPhase = 'not-requested' | 'requested' | 'delivered';

/** PAUSE sent → PAUSE_RESPONSE received; RESUME goes back to running (it has no answer). */
export type PausePhase = 'running' | 'pausing' | 'paused';

export interface Session {
  readonly version: VmbusVersion;
  /** Negotiated Copper feature flags (0 before 6.0). */
  readonly features: number;
  readonly messageConnectionId: number;
  readonly serverMonitorPages: MonitorPageGpas | null;
  offers: OfferPhase;
  pause: PausePhase;
  /** A MODIFY_CONNECTION waits for its response (one at a time). */
  modifyConnectionPending: boolean;
}

export type ConnectionPhase =
  | { readonly name: 'disconnected' }
  /** INITIATE_CONTACT for `plan.versions[attempt]` is out. */
  | { readonly name: 'connecting'; readonly plan: ConnectPlan; readonly attempt: number }
  | { readonly name: 'connected'; readonly session: Session }
  /** UNLOAD is out; the host may still answer earlier requests before UNLOAD_COMPLETE. */
  | { readonly name: 'unloading'; readonly session: Session };

export type ConnectionPhaseName = ConnectionPhase['name'];
