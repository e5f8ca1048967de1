/**
 * A small, fast, seedable PRNG (the public-domain "mulberry32" mixing steps).
 * Reproducibility, not statistical quality, is what the scheduler needs.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in 0..bound-1 (bound ≥ 1). */
  nextBelow(bound: number): number {
    return this.nextUint32() % bound;
  }
}
