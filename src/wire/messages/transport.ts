/**
 * How channel-management messages travel: SynIC message slots, SINTs and
 * connection ids (openvmm-vmbus.md §6.1; linux-vmbus.md §A.3.1).
 */

/** Bytes in a SynIC message payload, and so in a whole VMBus message incl. its header (protocol.rs:36). */
export const MAX_MESSAGE_SIZE = 240;

/** The VMBus message header: `message_type u32 @0, padding u32 @4` (protocol.rs:35, 132-137). */
export const MESSAGE_HEADER_SIZE = 8;

/** The hypervisor message type that VMBus posts its messages with (vmbus_server/src/lib.rs:106). */
export const VMBUS_MESSAGE_TYPE = 1;

/** The SINT that carries VMBus messages and events when not redirected (vmbus_core/src/lib.rs:24). */
export const VMBUS_SINT = 2;

/** The VTL0 server's message port; used for every control message before 5.0 (vmbus_server/src/lib.rs:292). */
export const VMBUS_MESSAGE_CONNECTION_ID = 1;

/**
 * The multiclient message port: INITIATE_CONTACT goes here from 5.0 on, and later
 * messages to the id the VersionResponse returns (linux-vmbus.md §A.3.1).
 */
export const VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT = 4;

/** The message port of a VTL2 server on SINT 7, VP 0: `4 | 2<<22 | 7<<4` (protocol.rs:29). */
export const VMBUS_MESSAGE_REDIRECT_CONNECTION_ID = 0x80_0074;

/** The shared event connection of pre-Win8 guests that use the interrupt page (vmbus_server/src/lib.rs:104). */
export const VMBUS_EVENT_CONNECTION_ID = 2;

/**
 * The guest→host event connection id the server puts in a channel's offer:
 * `channelId | sint << 12 | vtl << 16` (protocol.rs:271-276), so `0x2000 + channelId`
 * for VTL0 and SINT 2.
 */
export function channelConnectionId(channelId: number, vtl = 0, sint = VMBUS_SINT): number {
  return (channelId | (sint << 12) | (vtl << 16)) >>> 0;
}
