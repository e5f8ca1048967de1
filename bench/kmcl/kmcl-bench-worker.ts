/**
 * Worker entry of the `kmcl` benchmark: one end (sender or receiver) of one
 * run, on the API it is told to drive.
 */
import { workerData } from 'node:worker_threads';
import { idiomaticReceiver, idiomaticSender } from './idiomatic-loops.js';
import { BenchSide, type KmclWorkerData } from './kmcl-worker-data.js';
import { rawReceiver, rawSender } from './raw-transactions.js';
import { tableReceiver, tableSender } from './table-loops.js';

const data = workerData as KmclWorkerData;
const side = new BenchSide(data);
const sender = data.role === 'sender';
switch (data.api) {
  case 'raw':
    // The ring's own stream and latency runs are bench/ring's; this one is send + complete.
    if (sender) rawSender(data, side);
    else rawReceiver(data, side);
    break;
  case 'kmcl':
    await (sender ? tableSender(data, side) : tableReceiver(data, side));
    break;
  case 'idiomatic':
    await (sender ? idiomaticSender(data, side) : idiomaticReceiver(data, side));
    break;
}
