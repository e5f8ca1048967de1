/*
 * spin-before-sleep.h: the bounded poll a ring-ref throughput thread runs
 * before it arms its doorbell and sleeps, the same poll as the TypeScript
 * workers' (bench/ring/spin-before-sleep.ts), counted the same way.
 */
#ifndef KMCL_BENCH_SPIN_BEFORE_SLEEP_H
#define KMCL_BENCH_SPIN_BEFORE_SLEEP_H
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* Polls between two clock reads while spinning: the TypeScript workers' POLLS_PER_CLOCK. */
enum { SPIN_POLLS_PER_CLOCK = 64 };

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One thread's polling before sleep: spins, spins that ran out of time, time spent polling. */
struct spin_counters {
  _Atomic uint64_t spins, timed_out, spinning_ns;
};

/*
 * Polls `cleared(arg)` for up to `spin_us` µs before the caller arms its
 * doorbell and sleeps; true when it cleared (no sleep needed). The clock is
 * read every SPIN_POLLS_PER_CLOCK polls, and a poll is the load of the peer's
 * index alone, with no pause instruction: the same poll as the TypeScript
 * workers' (spin-before-sleep.ts), which have no pause to give.
 */
static int spin_before_sleep(uint32_t spin_us, int (*cleared)(void *), void *arg, struct spin_counters *counters) {
  if (spin_us == 0) return 0;
  uint64_t start = now_ns();
  uint64_t deadline = start + (uint64_t)spin_us * 1000u;
  int caught = 1;
  for (uint32_t polls = 1; !cleared(arg); polls++) {
    if (polls % SPIN_POLLS_PER_CLOCK == 0 && now_ns() >= deadline) {
      caught = 0;
      break;
    }
  }
  atomic_fetch_add_explicit(&counters->spinning_ns, now_ns() - start, memory_order_relaxed);
  atomic_fetch_add_explicit(&counters->spins, 1, memory_order_relaxed);
  if (!caught) atomic_fetch_add_explicit(&counters->timed_out, 1, memory_order_relaxed);
  return caught;
}

#endif
