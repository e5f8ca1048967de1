/**
 * One seed per randomized test, printed so a failure can be replayed:
 * `KMCL_SEED=1234 npm test` reruns every randomized test with that seed.
 */
export function testSeed(testName: string): number {
  const fromEnv = process.env['KMCL_SEED'];
  const seed = fromEnv !== undefined ? Number(fromEnv) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  console.log(`# seed for "${testName}": ${seed} (replay with KMCL_SEED=${seed})`);
  return seed;
}
