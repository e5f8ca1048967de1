/**
 * HANDLEs to a guest's VMBus (its host device object): the user-mode handle
 * the VM's worker process opens, and the kernel-mode handle
 * VmbConvertVmbusHandleToKernelHandle makes from it for
 * VmbServerChannelInitSetVmbusHandle. Both are opaque and must be closed by
 * whoever holds them; a closed handle no longer names anything.
 *
 * Decision: the page says the conversion must run in the context of the
 * process that opened the user-mode handle; a JavaScript realm is one
 * process, so any code holding the handle may convert it.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { isOut } from '../arguments.js';
import type { Out } from '../types.js';
import type { KmclHostDeviceObject } from './host-device-object.js';

/** Who a handle belongs to: the VM worker process (user) or the kernel (VmbConvertVmbusHandleToKernelHandle). */
export type VmbusHandleMode = 'user' | 'kernel';

export class KmclVmbusHandle {
  readonly mode: VmbusHandleMode;
  #device: KmclHostDeviceObject | null;

  private constructor(device: KmclHostDeviceObject, mode: VmbusHandleMode) {
    this.#device = device;
    this.mode = mode;
  }

  /** A new open handle to `device`'s VMBus. */
  static open(device: KmclHostDeviceObject, mode: VmbusHandleMode): KmclVmbusHandle {
    return new KmclVmbusHandle(device, mode);
  }

  /** The host device object the handle names; null once closed. */
  get device(): KmclHostDeviceObject | null {
    return this.#device;
  }

  /** CloseHandle / ZwClose: STATUS_INVALID_HANDLE for a handle already closed. */
  close(): NtStatus {
    if (this.#device === null) return NTSTATUS.STATUS_INVALID_HANDLE;
    this.#device = null;
    return NTSTATUS.STATUS_SUCCESS;
  }
}

/** HANDLE, as VmbConvertVmbusHandleToKernelHandle and VmbServerChannelInitSetVmbusHandle take it. */
export type HANDLE = KmclVmbusHandle;

/** The device an open handle of `mode` names, or null for anything else. */
export function deviceOfHandle(handle: unknown, mode: VmbusHandleMode): KmclHostDeviceObject | null {
  return handle instanceof KmclVmbusHandle && handle.mode === mode ? handle.device : null;
}

/**
 * VmbConvertVmbusHandleToKernelHandle: a kernel-mode handle (in
 * `KernelHandle.value`) to the guest VMBus that `VmbusHandle`, a user-mode
 * handle the VM's worker process opened, names. The caller closes it when
 * done. STATUS_INVALID_HANDLE for anything but an open user-mode VMBus
 * handle (what ObReferenceObjectByHandle reports); _2 for a bad out-parameter.
 */
export function VmbConvertVmbusHandleToKernelHandle(VmbusHandle: HANDLE, KernelHandle: Out<HANDLE | null>): NtStatus {
  const device = deviceOfHandle(VmbusHandle, 'user');
  if (device === null) return NTSTATUS.STATUS_INVALID_HANDLE;
  if (!isOut(KernelHandle)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  KernelHandle.value = KmclVmbusHandle.open(device, 'kernel');
  return NTSTATUS.STATUS_SUCCESS;
}
