/**
 * How an IC device or driver gets its KMCL channel: allocate it, apply its
 * init-time settings and enable it, each step an interface call whose
 * NTSTATUS is checked; on the first failure the channel is cleaned up and a
 * KmclError says which service and what failed.
 */
import {
  KmclError,
  NTSTATUS,
  VmbChannelAllocate,
  VmbChannelCleanup,
  type KmclDeviceObject,
  type KmclHostDeviceObject,
  type NtStatus,
  type Out,
  type VMBCHANNEL,
} from '../../index.js';

/** What the caller builds on the fresh channel: its own object, and the setup calls to make in order. */
export interface ChannelSetup<T> {
  readonly owner: T;
  readonly steps: readonly (() => NtStatus)[];
}

/**
 * Allocates a client (guest device object) or server (host device object)
 * channel, hands it to `build`, runs the steps `build` returns, and returns
 * the owner. Throws a KmclError with the first failing status.
 */
export function setUpIcChannel<T>(
  device: KmclDeviceObject | KmclHostDeviceObject,
  isServer: boolean,
  service: string,
  build: (channel: VMBCHANNEL) => ChannelSetup<T>,
): T {
  const box: Out<VMBCHANNEL | null> = { value: null };
  const allocated = VmbChannelAllocate(device, isServer, box);
  if (allocated !== NTSTATUS.STATUS_SUCCESS || box.value === null) {
    throw new KmclError(allocated, `VmbChannelAllocate for the ${service} IC`);
  }
  const channel = box.value;
  const { owner, steps } = build(channel);
  for (const step of steps) {
    const status = step();
    if (status !== NTSTATUS.STATUS_SUCCESS) {
      VmbChannelCleanup(channel);
      throw new KmclError(status, `setting up the ${service} IC channel`);
    }
  }
  return owner;
}
