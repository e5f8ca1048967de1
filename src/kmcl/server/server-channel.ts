/**
 * What a server channel holds beyond the channel core: its offer settings
 * (the VmbServerChannelInit* values), the offer on the guest's bus while it
 * is enabled, the MMIO space reserved for it, the guest's GPADLs it maps,
 * and a save or restore in progress.
 */
import type { GpadlMapping } from '../../memory/index.js';
import type { KmclChannel } from '../channel/channel.js';
import type { Guid } from '../../wire/guid.js';
import type { MmioSpace } from '../device-object.js';
import type { KmclHostDeviceObject } from './host-device-object.js';
import type { HostOffer } from './host-bus-port.js';
import type { ChannelRestore } from './channel-restore.js';
import type { SavedServerChannel } from './channel-saved-state.js';
import type { ChannelSave } from './channel-save.js';
import type {
  PFN_VMB_CHANNEL_RESTORE_PACKET,
  PFN_VMB_CHANNEL_RESTORE_PACKET_EX,
  PFN_VMB_CHANNEL_SAVE_PACKET,
  PFN_VMB_CHANNEL_SAVE_PACKET_EX,
} from './server-types.js';

/** The save/restore packet callbacks: the V1 pair or the V5 pair with its context. */
export type PacketSaveRestoreCallbacks =
  | { readonly ex: false; readonly save: PFN_VMB_CHANNEL_SAVE_PACKET; readonly restore: PFN_VMB_CHANNEL_RESTORE_PACKET }
  | {
      readonly ex: true;
      readonly save: PFN_VMB_CHANNEL_SAVE_PACKET_EX;
      readonly restore: PFN_VMB_CHANNEL_RESTORE_PACKET_EX;
      readonly context: unknown;
    };

export class ServerChannel {
  /** The guest the channel is offered to: its parent, or the one VmbServerChannelInitSetVmbusHandle named. */
  device: KmclHostDeviceObject;
  interfaceId: Guid | null = null;
  instanceId: Guid | null = null;
  /** VMBUS_SERVER_CHANNEL_INIT_FLAGS bits. */
  flags = 0;
  mmioMegabytes = 0;
  mmioMegabytesOptional = 0;
  targetVtl = 0;
  packetCallbacks: PacketSaveRestoreCallbacks | null = null;
  /** The offer on the guest's bus, from VmbChannelEnable until VmbChannelDisable. */
  offer: HostOffer | null = null;
  /** 0 for a primary channel; a subchannel's index, given at Enable. */
  subchannelIndex = 0;
  /** A primary's enabled subchannels (disabled before it, as the bus rescinds them first). */
  readonly subchannels = new Set<KmclChannel>();
  /** The primary's server part while this subchannel is enabled. */
  primary: ServerChannel | null = null;
  /** The guest's channel id while it holds the channel open, else null. */
  channelId: number | null = null;
  mmio: MmioSpace | null = null;
  /** GPADLs mapped with VmbChannelMapGpadl, by GPADL id (one mapping per GPADL, as the page says). */
  readonly mappings = new Map<number, GpadlMapping>();
  /** VmbChannelSaveBegin to VmbChannelSaveEnd. */
  save: ChannelSave | null = null;
  /** VmbChannelRestoreFromBuffer until its last chunk (or a failure). */
  restore: ChannelRestore | null = null;
  /** The saved channel a restore applied, until VmbChannelEnable takes the bus's channel back with it. */
  restored: SavedServerChannel | null = null;
  /** The guest kept a rescinded channel past the release timeout (the last Disable gave up on it). */
  releaseTimedOut = false;

  constructor(device: KmclHostDeviceObject) {
    this.device = device;
  }
}
