/**
 * What a channel is configured with (the init-time settings of the
 * VmbChannelInitSet* / VmbClientChannelInitSet* functions, as one options
 * object) and how those settings are applied to a freshly allocated channel.
 */
import type { Guid } from '../../wire/guid.js';
import { VmbClientChannelInitSetRingBufferPageCount, VmbClientChannelInitSetTargetPnp, VmbClientChannelInitSetTargetProcessorIndex } from '../channel/client-init-setters.js';
import { DEFAULT_MAXIMUM_PACKET_SIZE } from '../channel/channel-config.js';
import {
  VmbChannelInitSetFlags,
  VmbChannelInitSetFriendlyName,
  VmbChannelInitSetMaximumExternalData,
  VmbChannelInitSetMaximumPacketSize,
} from '../channel/init-setters.js';
import { VMBUS_CHANNEL_INIT_FLAG_IS_PIPE } from '../flags.js';
import { VmbChannelSetTransactionQuota } from '../receive/incoming-functions.js';
import type { PFN_VMB_CHANNEL_PNP_FAILURE, VMBCHANNEL } from '../types.js';
import type { Channel } from './channel.js';
import { ensureSuccess } from './ensure-success.js';

/**
 * Decision: at most 256 incoming packets handed out and not completed. A
 * consumer slower than the peer then holds the peer back (the packets wait in
 * the ring, the ring fills, the peer's sends queue), instead of the packets
 * piling up in memory.
 */
export const DEFAULT_TRANSACTION_QUOTA = 256;

export interface ChannelOptions {
  /** The device class to open: the offer's interface type GUID. */
  readonly interfaceId: Guid;
  /** A particular device of that class; default the first offer of the class nobody holds. */
  readonly instanceId?: Guid;
  /** Pages of each ring, control page included (at least 2); the channel grows them if its packet limits need more. */
  readonly ringPages?: { readonly incoming: number; readonly outgoing: number };
  /** The largest in-band payload the channel sends (default DEFAULT_MAXIMUM_PACKET_SIZE). */
  readonly maximumPacketSize?: number;
  /** Limits on external data per packet: bytes, and MDLs in a chain. */
  readonly maximumExternalData?: { readonly bytes: number; readonly chainLength: number };
  /** Pipe mode: an 8-byte pipe header on every data packet; no completions, no external data. */
  readonly pipe?: boolean;
  readonly friendlyName?: string;
  /** The virtual processor the host signals for this channel. */
  readonly targetProcessor?: number;
  /** Incoming packets handed out and not yet completed, at most (default DEFAULT_TRANSACTION_QUOTA). */
  readonly transactionQuota?: number;
  /**
   * Awaited once the channel is open and before it starts (EvtChannelOpened):
   * where a driver creates its GPADLs. Throwing refuses the open (the status
   * of a thrown KmclError, else STATUS_UNSUCCESSFUL), and `open()` rejects with it.
   */
  readonly onOpened?: (channel: Channel) => void | Promise<void>;
  /** Awaited once the channel has closed (EvtChannelClosed): where a driver deletes its GPADLs. */
  readonly onClosed?: (channel: Channel) => void | Promise<void>;
}

/** Sets `options` on a disabled channel, in the order a driver would call the setters; throws the first failure. */
export function applyChannelOptions(channel: VMBCHANNEL, options: ChannelOptions, pnpFailure: PFN_VMB_CHANNEL_PNP_FAILURE): void {
  ensureSuccess(
    VmbClientChannelInitSetTargetPnp(channel, options.interfaceId, options.instanceId ?? null, pnpFailure),
    'VmbClientChannelInitSetTargetPnp',
  );
  const { ringPages, maximumExternalData } = options;
  if (ringPages !== undefined) {
    ensureSuccess(
      VmbClientChannelInitSetRingBufferPageCount(channel, ringPages.incoming, ringPages.outgoing),
      'VmbClientChannelInitSetRingBufferPageCount',
    );
  }
  if (options.maximumPacketSize !== undefined) {
    ensureSuccess(VmbChannelInitSetMaximumPacketSize(channel, options.maximumPacketSize), 'VmbChannelInitSetMaximumPacketSize');
  }
  if (maximumExternalData !== undefined) {
    ensureSuccess(
      VmbChannelInitSetMaximumExternalData(channel, maximumExternalData.bytes, maximumExternalData.chainLength),
      'VmbChannelInitSetMaximumExternalData',
    );
  }
  if (options.pipe === true) ensureSuccess(VmbChannelInitSetFlags(channel, VMBUS_CHANNEL_INIT_FLAG_IS_PIPE), 'VmbChannelInitSetFlags');
  if (options.friendlyName !== undefined) {
    ensureSuccess(VmbChannelInitSetFriendlyName(channel, options.friendlyName), 'VmbChannelInitSetFriendlyName');
  }
  if (options.targetProcessor !== undefined) {
    ensureSuccess(
      VmbClientChannelInitSetTargetProcessorIndex(channel, options.targetProcessor),
      'VmbClientChannelInitSetTargetProcessorIndex',
    );
  }
  ensureSuccess(
    VmbChannelSetTransactionQuota(channel, options.transactionQuota ?? DEFAULT_TRANSACTION_QUOTA),
    'VmbChannelSetTransactionQuota',
  );
}

/** The maximum packet size the options give the channel. */
export function maximumPacketSizeOf(options: ChannelOptions): number {
  return options.maximumPacketSize ?? DEFAULT_MAXIMUM_PACKET_SIZE;
}
