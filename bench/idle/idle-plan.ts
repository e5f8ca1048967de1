/** What `npm run bench -- idle` measures: one guest worker with open, silent channels, for the 5 s. */
export interface IdlePlan {
  /** Echo channels the guest opens besides the four integration components. */
  readonly echoChannels: number;
  /** After every channel is up: let the first heartbeat and time sample, JIT and GC settle. */
  readonly settleMs: number;
  readonly windowMs: number;
  /** The goal: idle CPU below this share of one core, every thread counted. */
  readonly budgetPercent: number;
  /**
   * The context run's echo burst: traffic on every echo channel for this long,
   * then none, so the window shows the threads going back to sleep.
   */
  readonly burstMs: number;
}

export const IDLE_PLAN: IdlePlan = {
  echoChannels: 16,
  settleMs: 1000,
  windowMs: 5000,
  budgetPercent: 1,
  burstMs: 500,
};
