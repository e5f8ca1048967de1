/**
 * The entry of a guest partition's worker thread (started by WorkerGuest):
 * on 'start' it attaches to the VM's hypervisor and the guest's memory
 * (SharedArrayBuffers), imports the guest module and boots the guest
 * (guest-runtime.ts); on 'stop' it stops the guest, lets go of the
 * hypervisor and stops listening, so the thread ends by itself.
 *
 * Loaded anywhere else (the main thread, another worker) it does nothing.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { attachHypervisor, type Hypervisor } from '../hv/index.js';
import { realTimeScheduler } from '../kmcl/index.js';
import { GuestMemory } from '../memory/index.js';
import { NULL_TRACE, type TraceSink } from '../trace/index.js';
import { parseOwnerMessage, type GuestWorkerSetup, type WorkerToOwner } from './control-channel.js';
import { GuestRuntime } from './guest-runtime.js';
import { loadModuleFunction } from './module-loader.js';
import { guestTrace } from './partition-trace.js';
import { vmFailure } from './vm-error.js';
import type { GuestModule } from './vm-types.js';
import { GUEST_WORKER_ROLE } from './worker-guest.js';

function serve(port: MessagePort): void {
  const post = (message: WorkerToOwner): void => port.postMessage(message);
  let hv: Hypervisor | null = null;
  let runtime: GuestRuntime | null = null;
  let stopping = false;

  const start = async (setup: GuestWorkerSetup): Promise<void> => {
    hv = attachHypervisor(setup.descriptor);
    const forward: TraceSink = setup.trace ? { emit: (event) => post({ kind: 'trace', event }) } : NULL_TRACE;
    const guest = new GuestRuntime({
      name: setup.name,
      index: setup.index,
      partition: hv.partition(setup.partitionId),
      memory: new GuestMemory(setup.memory),
      scheduler: realTimeScheduler,
      retry: null,
      trace: guestTrace(forward, setup.name),
      data: setup.data,
      emit: (kind, detail) => post({ kind: 'event', event: { kind, detail } }),
    });
    runtime = guest;
    let module: GuestModule | null = null;
    if (setup.module !== null) {
      try {
        module = await loadModuleFunction<GuestModule>(setup.module);
      } catch (error) {
        post({ kind: 'error', failure: vmFailure(setup.name, 'load', error) });
        return;
      }
    }
    // A stop that came while the module loaded already stopped the runtime: boot finds it stopping.
    const failure = await guest.boot(module);
    if (stopping) return;
    post(failure === null ? { kind: 'ready' } : { kind: 'error', failure });
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    const stopped = runtime === null ? null : await runtime.stop();
    hv?.close();
    post({
      kind: 'stopped',
      report: stopped?.report ?? { name: '', bus: null, invariants: [], pagesAllocated: 0 },
      failures: stopped?.failures ?? [],
    });
    // The port was the last thing keeping the thread alive: the worker exits once its queue is empty.
    port.off('message', onMessage);
  };

  const onMessage = (raw: unknown): void => {
    const message = parseOwnerMessage(raw);
    if (message === undefined) return;
    // A rejection here is our own bug: let it crash the thread, which the owner reports with its stack.
    if (message.kind === 'start') void start(message.setup);
    else if (!stopping) void stop();
  };
  port.on('message', onMessage);
}

const role = (workerData as { role?: unknown } | null)?.role;
if (!isMainThread && parentPort !== null && role === GUEST_WORKER_ROLE) serve(parentPort);
