import { BenchRegistry } from '../harness/registry.js';
import { busSuite } from '../bus.js';
import { kmclSuite } from '../kmcl.js';
import { cSuite } from './c-suite.js';
import { idleSuite } from './idle-suite.js';
import { ringSuite } from './ring-suite.js';
import { scaleSuite } from './scale-suite.js';

/** Every sub-benchmark `npm run bench` knows, in the order "run all" runs them. */
export function createBenchRegistry(): BenchRegistry {
  return new BenchRegistry()
    .register(ringSuite)
    .register(cSuite)
    .register(busSuite)
    .register(kmclSuite)
    .register(scaleSuite)
    .register(idleSuite);
}
