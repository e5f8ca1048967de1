/*
 * ring-ref: measures the C reference ring (vmbus-ring.h) the same way the
 * TypeScript `ring` benchmark measures kmcl's engine.
 *
 *   ring-ref throughput --data-bytes N --payload-bytes N --warmup-ms N
 *            --duration-ms N --write-batch N --read-batch N --pending-floor N
 *            [--spin-before-sleep-us N]
 *     A writer thread streams in-band packets of one size to a reader thread;
 *     counts what the reader got during the measured window after a warm-up.
 *     Each side publishes its index (and decides whether to signal) once per
 *     batch; batches of 1 and 1 are the one-at-a-time runs. With a spin, a
 *     side that must wait polls that many µs before it sleeps.
 *
 *   ring-ref latency --data-bytes N --request-bytes N --warmup N --samples N
 *     One request with completion requested in flight at a time; a server
 *     thread echoes a completion on a second ring; one sample per round trip.
 *
 * Output: one JSON line on stdout with raw counts (with the nanoseconds each
 * throughput thread spent ringing, asleep and spinning) or samples; the harness
 * derives rates and percentiles, so that math lives in one place. The harness
 * runs one invocation per trial so it can interleave C and TypeScript runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "spin-before-sleep.h"
#include "vmbus-ring.h"

enum { COMPLETION_PAYLOAD_BYTES = 16 };

struct options {
  uint32_t data_bytes, payload_bytes, warmup_ms, duration_ms, write_batch, read_batch, pending_floor, spin_us;
  uint32_t request_bytes, latency_warmup, latency_samples;
};

static void sleep_ms(uint32_t ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void *checked_alloc(size_t bytes) {
  void *p = calloc(1, bytes == 0 ? 1 : bytes);
  if (p == NULL) fail("out of memory");
  return p;
}

/*
 * Counters written by one thread each, on separate cache lines. The *_ns
 * totals are the time spent in doorbell calls: ringing (the futex wake
 * alone) and asleep (from deciding to sleep until awake again).
 */
struct throughput_run {
  struct ring ring;
  struct doorbell data_doorbell;
  struct doorbell space_doorbell;
  _Alignas(64) _Atomic int stop;
  _Alignas(64) _Atomic uint64_t received;
  _Atomic uint64_t signals_to_writer, reader_sleeps, reader_ringing_ns, reader_asleep_ns;
  struct spin_counters reader_spin;
  _Alignas(64) _Atomic uint64_t signals_to_reader, writer_sleeps, writer_ringing_ns, writer_asleep_ns;
  struct spin_counters writer_spin;
  uint32_t payload_bytes, write_batch, read_batch, pending_floor, spin_us;
};

static int refused_packet_fits(void *writer) { return writer_has_room(writer); }

static int packet_arrived(void *reader) { return reader_has_packet(reader); }

/* Rings `d`, adding the time the ring took to `ringing_ns`; the clock is read only here, never per packet. */
static void timed_ring(struct doorbell *d, _Atomic uint64_t *ringing_ns) {
  uint64_t start = now_ns();
  doorbell_ring(d);
  atomic_fetch_add_explicit(ringing_ns, now_ns() - start, memory_order_relaxed);
}

/* Sleeps on `d` past ticket `seen`, adding the time until awake again to `asleep_ns`. */
static void timed_wait(struct doorbell *d, uint32_t seen, _Atomic uint64_t *asleep_ns) {
  uint64_t start = now_ns();
  doorbell_wait(d, seen);
  atomic_fetch_add_explicit(asleep_ns, now_ns() - start, memory_order_relaxed);
}

static void *throughput_writer(void *arg) {
  struct throughput_run *run = arg;
  struct ring_writer w;
  writer_init(&w, &run->ring);
  uint8_t *payload = checked_alloc(run->payload_bytes);
  uint32_t total = packet_total_bytes(run->payload_bytes);
  uint64_t sequence = 0;
  while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
    uint32_t written = 0;
    while (written < run->write_batch) {
      /* The sequence number lets the reader prove nothing was lost or reordered. */
      memcpy(payload, &sequence, sizeof sequence);
      if (!writer_try_write(&w, PACKET_TYPE_DATA_INBAND, 0, 0, payload, run->payload_bytes)) break;
      sequence++;
      written++;
    }
    if (writer_publish(&w)) {
      atomic_fetch_add_explicit(&run->signals_to_reader, 1, memory_order_relaxed);
      timed_ring(&run->data_doorbell, &run->writer_ringing_ns);
    }
    if (written == run->write_batch) continue;
    /* No pending send size yet: the reader does not ring while we poll. */
    if (spin_before_sleep(run->spin_us, refused_packet_fits, &w, &run->writer_spin)) continue;
    uint32_t seen = atomic_load(&run->space_doorbell.ticket);
    if (writer_request_space(&w, total, run->pending_floor)) continue;
    if (atomic_load(&run->stop)) break;
    atomic_fetch_add_explicit(&run->writer_sleeps, 1, memory_order_relaxed);
    timed_wait(&run->space_doorbell, seen, &run->writer_asleep_ns);
  }
  free(payload);
  return NULL;
}

static void *throughput_reader(void *arg) {
  struct throughput_run *run = arg;
  struct ring_reader rd;
  reader_init(&rd, &run->ring);
  uint32_t capacity = pad8(run->payload_bytes);
  uint8_t *payload = checked_alloc(capacity);
  uint64_t expected = 0;
  struct packet packet;
  reader_mask(&rd);
  while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
    uint32_t count = 0;
    while (count < run->read_batch && reader_next(&rd, &packet, payload, capacity)) {
      uint64_t sequence;
      memcpy(&sequence, payload, sizeof sequence);
      if (sequence != expected || packet.payload_bytes != capacity) fail("lost or reordered packet");
      expected++;
      count++;
    }
    if (count > 0) {
      atomic_store_explicit(&run->received, expected, memory_order_relaxed);
      if (reader_publish(&rd)) {
        atomic_fetch_add_explicit(&run->signals_to_writer, 1, memory_order_relaxed);
        timed_ring(&run->space_doorbell, &run->reader_ringing_ns);
      }
    }
    if (count == run->read_batch) continue;
    /* The mask is still set: the writer does not ring while we poll. */
    if (spin_before_sleep(run->spin_us, packet_arrived, &rd, &run->reader_spin)) continue;
    uint32_t seen = atomic_load(&run->data_doorbell.ticket);
    if (!reader_unmask_if_empty(&rd)) continue;
    if (atomic_load(&run->stop)) break;
    atomic_fetch_add_explicit(&run->reader_sleeps, 1, memory_order_relaxed);
    timed_wait(&run->data_doorbell, seen, &run->reader_asleep_ns);
    reader_mask(&rd);
  }
  free(payload);
  return NULL;
}

struct throughput_sample {
  uint64_t at_ns, received, signals_to_reader, signals_to_writer, reader_sleeps, writer_sleeps;
  uint64_t writer_spins, writer_spins_timed_out, reader_spins, reader_spins_timed_out;
  uint64_t writer_ringing_ns, writer_asleep_ns, writer_spinning_ns, reader_ringing_ns, reader_asleep_ns;
  uint64_t reader_spinning_ns;
};

static struct throughput_sample throughput_snapshot(struct throughput_run *run) {
  struct throughput_sample s;
  s.at_ns = now_ns();
  s.received = atomic_load(&run->received);
  s.signals_to_reader = atomic_load(&run->signals_to_reader);
  s.signals_to_writer = atomic_load(&run->signals_to_writer);
  s.reader_sleeps = atomic_load(&run->reader_sleeps);
  s.writer_sleeps = atomic_load(&run->writer_sleeps);
  s.writer_spins = atomic_load(&run->writer_spin.spins);
  s.writer_spins_timed_out = atomic_load(&run->writer_spin.timed_out);
  s.reader_spins = atomic_load(&run->reader_spin.spins);
  s.reader_spins_timed_out = atomic_load(&run->reader_spin.timed_out);
  s.writer_spinning_ns = atomic_load(&run->writer_spin.spinning_ns);
  s.reader_spinning_ns = atomic_load(&run->reader_spin.spinning_ns);
  s.writer_ringing_ns = atomic_load(&run->writer_ringing_ns);
  s.writer_asleep_ns = atomic_load(&run->writer_asleep_ns);
  s.reader_ringing_ns = atomic_load(&run->reader_ringing_ns);
  s.reader_asleep_ns = atomic_load(&run->reader_asleep_ns);
  return s;
}

static void run_throughput(const struct options *o) {
  uint32_t payload_bytes = o->payload_bytes;
  struct throughput_run *run = aligned_alloc(64, sizeof *run);
  if (run == NULL) fail("out of memory");
  memset(run, 0, sizeof *run);
  ring_init(&run->ring, o->data_bytes);
  doorbell_init(&run->data_doorbell);
  doorbell_init(&run->space_doorbell);
  run->payload_bytes = payload_bytes;
  run->write_batch = o->write_batch;
  run->read_batch = o->read_batch;
  run->pending_floor = o->pending_floor;
  run->spin_us = o->spin_us;
  pthread_t writer, reader;
  if (pthread_create(&reader, NULL, throughput_reader, run) != 0) fail("cannot start the reader thread");
  if (pthread_create(&writer, NULL, throughput_writer, run) != 0) fail("cannot start the writer thread");
  sleep_ms(o->warmup_ms);
  struct throughput_sample a = throughput_snapshot(run);
  sleep_ms(o->duration_ms);
  struct throughput_sample b = throughput_snapshot(run);
  atomic_store(&run->stop, 1);
  doorbell_ring(&run->data_doorbell);
  doorbell_ring(&run->space_doorbell);
  pthread_join(writer, NULL);
  pthread_join(reader, NULL);
  printf("{\"payloadBytes\":%u,\"packets\":%llu,\"seconds\":%.9f,\"signalsToReader\":%llu,"
         "\"signalsToWriter\":%llu,\"readerSleeps\":%llu,\"writerSleeps\":%llu,\"writerSpins\":%llu,"
         "\"writerSpinsTimedOut\":%llu,\"readerSpins\":%llu,\"readerSpinsTimedOut\":%llu,\"writerRingingNs\":%llu,"
         "\"writerAsleepNs\":%llu,\"writerSpinningNs\":%llu,\"readerRingingNs\":%llu,\"readerAsleepNs\":%llu,"
         "\"readerSpinningNs\":%llu}",
         payload_bytes, (unsigned long long)(b.received - a.received), (double)(b.at_ns - a.at_ns) / 1e9,
         (unsigned long long)(b.signals_to_reader - a.signals_to_reader),
         (unsigned long long)(b.signals_to_writer - a.signals_to_writer),
         (unsigned long long)(b.reader_sleeps - a.reader_sleeps),
         (unsigned long long)(b.writer_sleeps - a.writer_sleeps),
         (unsigned long long)(b.writer_spins - a.writer_spins),
         (unsigned long long)(b.writer_spins_timed_out - a.writer_spins_timed_out),
         (unsigned long long)(b.reader_spins - a.reader_spins),
         (unsigned long long)(b.reader_spins_timed_out - a.reader_spins_timed_out),
         (unsigned long long)(b.writer_ringing_ns - a.writer_ringing_ns),
         (unsigned long long)(b.writer_asleep_ns - a.writer_asleep_ns),
         (unsigned long long)(b.writer_spinning_ns - a.writer_spinning_ns),
         (unsigned long long)(b.reader_ringing_ns - a.reader_ringing_ns),
         (unsigned long long)(b.reader_asleep_ns - a.reader_asleep_ns),
         (unsigned long long)(b.reader_spinning_ns - a.reader_spinning_ns));
  ring_free_memory(&run->ring);
  free(run);
}

struct latency_run {
  struct ring requests;
  struct ring completions;
  struct doorbell request_doorbell;
  struct doorbell completion_doorbell;
  _Alignas(64) _Atomic int stop;
  uint32_t request_bytes;
};

/* The peer: drains requests and answers each with a completion echoing its transaction id. */
static void *latency_server(void *arg) {
  struct latency_run *run = arg;
  struct ring_reader rd;
  struct ring_writer w;
  reader_init(&rd, &run->requests);
  writer_init(&w, &run->completions);
  uint32_t capacity = pad8(run->request_bytes);
  uint8_t *request = checked_alloc(capacity);
  uint8_t completion[COMPLETION_PAYLOAD_BYTES] = {0};
  struct packet packet;
  reader_mask(&rd);
  while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
    while (reader_next(&rd, &packet, request, capacity)) {
      if ((packet.flags & FLAG_COMPLETION_REQUESTED) == 0) fail("request without completion requested");
      memcpy(completion + 8, &packet.transaction_id, sizeof packet.transaction_id);
      if (!writer_try_write(&w, PACKET_TYPE_COMPLETION, 0, packet.transaction_id, completion, sizeof completion))
        fail("completion ring full with one request in flight");
    }
    /* One request in flight: the client never waits for space, so this never signals. */
    reader_publish(&rd);
    if (writer_publish(&w)) doorbell_ring(&run->completion_doorbell);
    uint32_t seen = atomic_load(&run->request_doorbell.ticket);
    if (!reader_unmask_if_empty(&rd)) continue;
    if (atomic_load(&run->stop)) break;
    doorbell_wait(&run->request_doorbell, seen);
    reader_mask(&rd);
  }
  free(request);
  return NULL;
}

static void run_latency(const struct options *o) {
  struct latency_run *run = aligned_alloc(64, sizeof *run);
  if (run == NULL) fail("out of memory");
  memset(run, 0, sizeof *run);
  ring_init(&run->requests, o->data_bytes);
  ring_init(&run->completions, o->data_bytes);
  doorbell_init(&run->request_doorbell);
  doorbell_init(&run->completion_doorbell);
  run->request_bytes = o->request_bytes;
  pthread_t server;
  if (pthread_create(&server, NULL, latency_server, run) != 0) fail("cannot start the server thread");
  struct ring_writer w;
  struct ring_reader rd;
  writer_init(&w, &run->requests);
  reader_init(&rd, &run->completions);
  uint8_t *request = checked_alloc(o->request_bytes);
  uint8_t completion[COMPLETION_PAYLOAD_BYTES];
  uint64_t *samples = checked_alloc(sizeof(uint64_t) * o->latency_samples);
  struct packet packet;
  uint32_t rounds = o->latency_warmup + o->latency_samples;
  reader_mask(&rd);
  for (uint32_t i = 0; i < rounds; i++) {
    uint64_t transaction_id = (uint64_t)i + 1;
    uint64_t started = now_ns();
    memcpy(request, &transaction_id, sizeof transaction_id);
    if (!writer_try_write(&w, PACKET_TYPE_DATA_INBAND, FLAG_COMPLETION_REQUESTED, transaction_id, request,
                          o->request_bytes))
      fail("request ring full with nothing in flight");
    if (writer_publish(&w)) doorbell_ring(&run->request_doorbell);
    while (!reader_next(&rd, &packet, completion, sizeof completion)) {
      uint32_t seen = atomic_load(&run->completion_doorbell.ticket);
      if (!reader_unmask_if_empty(&rd)) continue;
      doorbell_wait(&run->completion_doorbell, seen);
      reader_mask(&rd);
    }
    reader_publish(&rd);
    uint64_t finished = now_ns();
    if (packet.type != PACKET_TYPE_COMPLETION || packet.transaction_id != transaction_id) fail("wrong completion");
    if (i >= o->latency_warmup) samples[i - o->latency_warmup] = finished - started;
  }
  atomic_store(&run->stop, 1);
  doorbell_ring(&run->request_doorbell);
  pthread_join(server, NULL);
  printf("{\"requestBytes\":%u,\"completionBytes\":%u,\"samplesNs\":[", o->request_bytes,
         (unsigned)COMPLETION_PAYLOAD_BYTES);
  for (uint32_t i = 0; i < o->latency_samples; i++) printf(i == 0 ? "%llu" : ",%llu", (unsigned long long)samples[i]);
  printf("]}");
  free(samples);
  free(request);
  ring_free_memory(&run->requests);
  ring_free_memory(&run->completions);
  free(run);
}

static uint32_t parse_number(const char *text) {
  char *end;
  errno = 0;
  unsigned long value = strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value > UINT32_MAX) fail("bad number argument");
  return (uint32_t)value;
}

static struct options parse_options(int argc, char **argv) {
  struct options o = {0};
  struct {
    const char *name;
    uint32_t *field;
  } numbers[] = {
      {"--data-bytes", &o.data_bytes},       {"--payload-bytes", &o.payload_bytes},
      {"--warmup-ms", &o.warmup_ms},         {"--duration-ms", &o.duration_ms},
      {"--write-batch", &o.write_batch},     {"--read-batch", &o.read_batch},
      {"--pending-floor", &o.pending_floor}, {"--request-bytes", &o.request_bytes},
      {"--warmup", &o.latency_warmup},       {"--samples", &o.latency_samples},
      {"--spin-before-sleep-us", &o.spin_us},
  };
  if ((argc - 2) % 2 != 0) fail("every option takes one value");
  for (int i = 2; i + 1 < argc; i += 2) {
    int known = 0;
    for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
      if (strcmp(argv[i], numbers[k].name) == 0) {
        *numbers[k].field = parse_number(argv[i + 1]);
        known = 1;
      }
    }
    if (!known) fail("unknown option");
  }
  /* The data area is whole pages, and packets must fit with room to spare. */
  if (o.data_bytes == 0 || o.data_bytes % 4096 != 0) fail("--data-bytes must be a positive multiple of 4096");
  return o;
}

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "throughput") != 0 && strcmp(argv[1], "latency") != 0)) {
    fail("usage: ring-ref throughput|latency --option value ...");
  }
  struct options o = parse_options(argc, argv);
  if (strcmp(argv[1], "throughput") == 0) {
    if (o.write_batch == 0 || o.read_batch == 0) fail("batches must be at least one packet");
    if (o.payload_bytes < 8 || packet_total_bytes(o.payload_bytes) >= o.data_bytes / 2) {
      fail("--payload-bytes out of range");
    }
    run_throughput(&o);
  } else {
    if (o.request_bytes < 8 || packet_total_bytes(o.request_bytes) >= o.data_bytes) {
      fail("--request-bytes out of range");
    }
    if (o.latency_samples == 0) fail("--samples must be at least 1");
    run_latency(&o);
  }
  printf("\n");
  return 0;
}
