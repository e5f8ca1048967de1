/**
 * The hypervisor ports and connections a VMBus needs, and their ids.
 *
 * On Hyper-V the host (root partition) creates every port and connection of
 * the bus, the guest's included, and the guest only posts to, and signals, ids
 * the protocol names. The same here: the host bus makes them all.
 *
 * Ids fixed by the protocol (guest namespace; linux-vmbus.md §A.3.1,
 * openvmm-vmbus.md §6.1):
 * - message connections 1 (before 5.0) and 4 (INITIATE_CONTACT from 5.0),
 *   plus the id the server names in VERSION_RESPONSE, all to the host's
 *   message port;
 * - a channel's event connection: the offer's `0x2000 + channel id` at VTL0,
 *   or the one the guest chose in OpenChannel2.
 *
 * Ids this simulation chooses (ids are 24-bit and scoped by their partition):
 * - host ports and host connections carry the host SINT in bits 16-19, so two
 *   host buses of one host partition, on different SINTs, never collide;
 * - guest ports follow OpenVMM's scheme for the guest's event port
 *   (`2 | vtl << 22 | channel_id << 8 | sint << 4`, `vmbus_server/src/lib.rs:105`),
 *   with the VP in place of the channel id, and `1` for the message port.
 */

/**
 * Host partition: the message port of the `index`th message connection id the
 * guest may post to (1, 4, then the server's own). One port per connection id,
 * because the server must know which id a message came on: INITIATE_CONTACT on
 * 4 carries SINT and VTL targets, on 1 it does not (channels.rs:2156-2200).
 */
export function hostMessagePortId(hostSint: number, index: number): number {
  return (hostSint << 16) | 0x0100 | index;
}

/** Host partition: the event port of one channel; its only flag is the channel id. */
export function hostEventPortId(hostSint: number, channelId: number): number {
  return (hostSint << 16) | 0x2000 | channelId;
}

/** Host partition: the connection to the guest's message port on `vp` and `sint` (VPs are < 64). */
export function hostMessageConnectionId(hostSint: number, vp: number, sint: number): number {
  return (hostSint << 16) | 0x4000 | (sint << 6) | vp;
}

/** Host partition: the connection to the guest's event port on `vp`. */
export function hostEventConnectionId(hostSint: number, vp: number): number {
  return (hostSint << 16) | 0x5000 | vp;
}

/** Guest partition: the message port of `vp` on `sint`. */
export function guestMessagePortId(vp: number, sint: number): number {
  return 1 | (vp << 8) | (sint << 4);
}

/** Guest partition: the event port of `vp` on `sint`, covering every event flag of the SINT. */
export function guestEventPortId(vp: number, sint: number): number {
  return 2 | (vp << 8) | (sint << 4);
}
