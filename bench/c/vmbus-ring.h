/*
 * vmbus-ring.h: the VMBus ring algorithm in C, the reference that
 * ring-ref.c measures against kmcl's TypeScript engine.
 *
 * Same layout and rules as kmcl's ring (facts from openvmm-vmbus.md §6.2-6.3
 * and linux-vmbus.md §A.1): a 4 KiB control page (write index @0, read index
 * @4, interrupt mask @8, pending send size @12, feature bits @64) followed by
 * the data area; 16-byte descriptor, payload padded to 8, 8-byte trailer
 * holding the packet's start offset; the ring is never made completely full;
 * indices are published once per batch; the writer signals only on
 * empty->non-empty with the mask clear; the reader signals only when free
 * space crosses the writer's pending send size; the reader keeps the mask set
 * while draining and re-checks after clearing it.
 *
 * Threads sleep on a doorbell word (futex on Linux, a condition variable
 * elsewhere) exactly when the TypeScript side calls Atomics.wait, so both
 * sides pay the same wake-up costs.
 *
 * A peer index or descriptor that breaks the rules ends the process with a
 * message: in a benchmark it can only mean a bug in this reference.
 */
#ifndef KMCL_BENCH_VMBUS_RING_H
#define KMCL_BENCH_VMBUS_RING_H
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the VMBus wire format is little-endian; this reference copies fields with memcpy"
#endif

enum {
  CONTROL_PAGE_BYTES = 4096,
  DESCRIPTOR_BYTES = 16,
  TRAILER_BYTES = 8,
  PACKET_TYPE_DATA_INBAND = 6,
  PACKET_TYPE_COMPLETION = 11,
  FLAG_COMPLETION_REQUESTED = 1,
  FEATURE_PENDING_SEND_SIZE = 1,
};

/* The control page, one per ring direction. */
struct control_page {
  _Atomic uint32_t write_index;
  _Atomic uint32_t read_index;
  _Atomic uint32_t interrupt_mask;
  _Atomic uint32_t pending_send_size;
  uint32_t reserved1[12];
  _Atomic uint32_t feature_bits;
  uint8_t reserved2[CONTROL_PAGE_BYTES - 68];
};
_Static_assert(offsetof(struct control_page, write_index) == 0, "write index @0");
_Static_assert(offsetof(struct control_page, read_index) == 4, "read index @4");
_Static_assert(offsetof(struct control_page, interrupt_mask) == 8, "interrupt mask @8");
_Static_assert(offsetof(struct control_page, pending_send_size) == 12, "pending send size @12");
_Static_assert(offsetof(struct control_page, feature_bits) == 64, "feature bits @64");
_Static_assert(sizeof(struct control_page) == CONTROL_PAGE_BYTES, "control page is one page");

struct ring {
  struct control_page *control;
  uint8_t *data;
  uint32_t size;
};

/* The hypervisor's event, modelled as a ticket word a thread can sleep on. */
struct doorbell {
  _Alignas(64) _Atomic uint32_t ticket;
#ifndef __linux__
  pthread_mutex_t lock;
  pthread_cond_t rung;
#endif
};

static void fail(const char *what) {
  fprintf(stderr, "ring-ref: %s\n", what);
  exit(2);
}

static void doorbell_init(struct doorbell *d) {
  atomic_init(&d->ticket, 0);
#ifndef __linux__
  pthread_mutex_init(&d->lock, NULL);
  pthread_cond_init(&d->rung, NULL);
#endif
}

static void doorbell_ring(struct doorbell *d) {
#ifdef __linux__
  atomic_fetch_add(&d->ticket, 1);
  syscall(SYS_futex, &d->ticket, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
  pthread_mutex_lock(&d->lock);
  atomic_fetch_add(&d->ticket, 1);
  pthread_cond_broadcast(&d->rung);
  pthread_mutex_unlock(&d->lock);
#endif
}

/* Sleeps until the ticket differs from `seen` (taken before the caller's last check). */
static void doorbell_wait(struct doorbell *d, uint32_t seen) {
#ifdef __linux__
  syscall(SYS_futex, &d->ticket, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#else
  pthread_mutex_lock(&d->lock);
  while (atomic_load(&d->ticket) == seen) pthread_cond_wait(&d->rung, &d->lock);
  pthread_mutex_unlock(&d->lock);
#endif
}

static void ring_init(struct ring *r, uint32_t data_bytes) {
  uint8_t *memory = aligned_alloc(CONTROL_PAGE_BYTES, CONTROL_PAGE_BYTES + (size_t)data_bytes);
  if (memory == NULL) fail("out of memory");
  memset(memory, 0, CONTROL_PAGE_BYTES + (size_t)data_bytes);
  r->control = (struct control_page *)memory;
  r->data = memory + CONTROL_PAGE_BYTES;
  r->size = data_bytes;
  /* A new incoming ring starts masked (openvmm-vmbus.md §6.2); both ends promise pending-send-size. */
  atomic_store(&r->control->interrupt_mask, 1);
  atomic_store(&r->control->feature_bits, FEATURE_PENDING_SEND_SIZE);
}

static void ring_free_memory(struct ring *r) { free(r->control); }

/* Bytes not holding unread packets (size - used; read == write means empty). A writer fills all but 8 of them. */
static uint32_t ring_free_bytes(uint32_t size, uint32_t write, uint32_t read) {
  return write >= read ? size - (write - read) : read - write;
}

/* A peer index is trusted only if it is inside the ring and 8-aligned. */
static uint32_t ring_peer_index(const struct ring *r, _Atomic uint32_t *field) {
  uint32_t value = atomic_load_explicit(field, memory_order_acquire);
  if (value >= r->size || (value & 7u) != 0) fail("peer published an invalid ring index");
  return value;
}

static uint32_t ring_copy_in(const struct ring *r, uint32_t at, const void *src, uint32_t len) {
  uint32_t first = r->size - at;
  if (len < first) {
    memcpy(r->data + at, src, len);
    return at + len;
  }
  memcpy(r->data + at, src, first);
  memcpy(r->data, (const uint8_t *)src + first, len - first);
  return len - first;
}

static uint32_t ring_copy_out(const struct ring *r, uint32_t at, void *dst, uint32_t len) {
  uint32_t first = r->size - at;
  if (len < first) {
    memcpy(dst, r->data + at, len);
    return at + len;
  }
  memcpy(dst, r->data + at, first);
  memcpy((uint8_t *)dst + first, r->data, len - first);
  return len - first;
}

static uint32_t pad8(uint32_t n) { return (n + 7u) & ~7u; }

static uint32_t packet_total_bytes(uint32_t payload) { return DESCRIPTOR_BYTES + pad8(payload) + TRAILER_BYTES; }

struct ring_writer {
  struct ring *ring;
  uint32_t write;        /* private write offset */
  uint32_t published;    /* write index as last published */
  uint32_t cached_read;  /* reader's index as last loaded; reloaded only when space looks short */
  uint32_t pending;      /* pending send size we last stored (0: none) */
  uint32_t needed;       /* after a refused write: ring bytes the packet needs, trailer included */
};

static void writer_init(struct ring_writer *w, struct ring *r) {
  w->ring = r;
  w->write = w->published = atomic_load(&r->control->write_index);
  w->cached_read = ring_peer_index(r, &r->control->read_index);
  w->pending = 0;
  w->needed = 0;
}

static void writer_clear_pending(struct ring_writer *w) {
  atomic_store_explicit(&w->ring->control->pending_send_size, 0, memory_order_relaxed);
  w->pending = 0;
}

/* Appends one packet without extended header past the private offset; false when it does not fit now. */
static int writer_try_write(struct ring_writer *w, uint16_t type, uint16_t flags, uint64_t transaction_id,
                            const uint8_t *payload, uint32_t payload_bytes) {
  static const uint8_t zeros[8];
  struct ring *r = w->ring;
  uint32_t total = packet_total_bytes(payload_bytes);
  /* Strictly more free space than the packet: the ring is never completely full. */
  if (ring_free_bytes(r->size, w->write, w->cached_read) <= total) {
    w->cached_read = ring_peer_index(r, &r->control->read_index);
    if (ring_free_bytes(r->size, w->write, w->cached_read) <= total) {
      w->needed = total;
      return 0;
    }
  }
  uint8_t descriptor[DESCRIPTOR_BYTES];
  uint16_t offset8 = DESCRIPTOR_BYTES / 8;
  uint16_t length8 = (uint16_t)((DESCRIPTOR_BYTES + pad8(payload_bytes)) / 8);
  memcpy(descriptor + 0, &type, 2);
  memcpy(descriptor + 2, &offset8, 2);
  memcpy(descriptor + 4, &length8, 2);
  memcpy(descriptor + 6, &flags, 2);
  memcpy(descriptor + 8, &transaction_id, 8);
  uint32_t start = w->write;
  uint32_t at = ring_copy_in(r, start, descriptor, DESCRIPTOR_BYTES);
  at = ring_copy_in(r, at, payload, payload_bytes);
  at = ring_copy_in(r, at, zeros, pad8(payload_bytes) - payload_bytes);
  uint64_t trailer = (uint64_t)start << 32;
  w->write = ring_copy_in(r, at, &trailer, TRAILER_BYTES);
  if (w->pending != 0) writer_clear_pending(w);
  return 1;
}

/* Publishes the batch; true when the reader must be signalled (empty -> non-empty, mask clear). */
static int writer_publish(struct ring_writer *w) {
  struct ring *r = w->ring;
  uint32_t old = w->published;
  if (old == w->write) return 0;
  atomic_store_explicit(&r->control->write_index, w->write, memory_order_release);
  w->published = w->write;
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&r->control->interrupt_mask, memory_order_relaxed) != 0) return 0;
  w->cached_read = ring_peer_index(r, &r->control->read_index);
  return w->cached_read == old;
}

/*
 * After a refused write: asks the reader to signal once `needed` bytes are
 * free, but for no less than `floor` (hysteresis, so a blocked writer is not
 * woken for every freed packet). Then looks again; true when the space is
 * already there (retry at once), false when the caller should sleep.
 */
static int writer_request_space(struct ring_writer *w, uint32_t needed, uint32_t floor) {
  struct ring *r = w->ring;
  uint32_t max_packet = r->size - TRAILER_BYTES;
  uint32_t pending = pad8(needed > floor ? needed : floor);
  if (pending > max_packet) pending = max_packet;
  if (pending != w->pending) {
    atomic_store_explicit(&r->control->pending_send_size, pending, memory_order_relaxed);
    w->pending = pending;
  }
  atomic_thread_fence(memory_order_seq_cst);
  w->cached_read = ring_peer_index(r, &r->control->read_index);
  if (ring_free_bytes(r->size, w->write, w->cached_read) > needed) {
    writer_clear_pending(w);
    return 1;
  }
  return 0;
}

/* After a refused write: whether the refused packet fits now (reloads the reader's index). */
static int writer_has_room(struct ring_writer *w) {
  struct ring *r = w->ring;
  w->cached_read = ring_peer_index(r, &r->control->read_index);
  return ring_free_bytes(r->size, w->write, w->cached_read) > w->needed;
}

struct ring_reader {
  struct ring *ring;
  uint32_t read;          /* private read offset */
  uint32_t published;     /* read index as last published */
  uint32_t cached_write;  /* writer's index as last loaded; stable within a batch */
};

static void reader_init(struct ring_reader *rd, struct ring *r) {
  rd->ring = r;
  rd->read = rd->published = atomic_load(&r->control->read_index);
  rd->cached_write = ring_peer_index(r, &r->control->write_index);
}

struct packet {
  uint16_t type;
  uint16_t flags;
  uint64_t transaction_id;
  uint32_t payload_bytes;
};

/* Copies the next packet out (descriptor once, then payload); false when the ring is empty. */
static int reader_next(struct ring_reader *rd, struct packet *out, uint8_t *payload, uint32_t capacity) {
  struct ring *r = rd->ring;
  if (rd->read == rd->cached_write) {
    rd->cached_write = ring_peer_index(r, &r->control->write_index);
    if (rd->read == rd->cached_write) return 0;
  }
  uint32_t available = r->size - ring_free_bytes(r->size, rd->cached_write, rd->read);
  if (available < DESCRIPTOR_BYTES + TRAILER_BYTES) fail("truncated packet");
  uint8_t descriptor[DESCRIPTOR_BYTES];
  ring_copy_out(r, rd->read, descriptor, DESCRIPTOR_BYTES);
  uint16_t offset8, length8;
  memcpy(&out->type, descriptor + 0, 2);
  memcpy(&offset8, descriptor + 2, 2);
  memcpy(&length8, descriptor + 4, 2);
  memcpy(&out->flags, descriptor + 6, 2);
  memcpy(&out->transaction_id, descriptor + 8, 8);
  uint32_t length = (uint32_t)length8 * 8;
  if (offset8 < 2 || length8 < offset8 || length + TRAILER_BYTES > available) fail("bad descriptor");
  if ((out->flags & ~FLAG_COMPLETION_REQUESTED) != 0) fail("unknown packet flags");
  if (out->type != PACKET_TYPE_DATA_INBAND && out->type != PACKET_TYPE_COMPLETION) fail("unexpected type");
  out->payload_bytes = length - (uint32_t)offset8 * 8;
  if (out->payload_bytes > capacity) fail("packet larger than the receive buffer");
  ring_copy_out(r, (rd->read + (uint32_t)offset8 * 8) % r->size, payload, out->payload_bytes);
  rd->read = (rd->read + length + TRAILER_BYTES) % r->size;
  return 1;
}

/* Publishes the batch; true when free space crossed the writer's pending send size. */
static int reader_publish(struct ring_reader *rd) {
  struct ring *r = rd->ring;
  uint32_t previous = rd->published;
  if (rd->read == previous) return 0;
  atomic_store_explicit(&r->control->read_index, rd->read, memory_order_release);
  rd->published = rd->read;
  atomic_thread_fence(memory_order_seq_cst);
  uint32_t features = atomic_load_explicit(&r->control->feature_bits, memory_order_relaxed);
  if ((features & FEATURE_PENDING_SEND_SIZE) == 0) return 0;
  uint32_t pending = atomic_load_explicit(&r->control->pending_send_size, memory_order_relaxed) & ~7u;
  if (pending == 0) return 0;
  /* The write index is loaded after the pending send size, so a writer that just set it is seen with its index. */
  rd->cached_write = ring_peer_index(r, &r->control->write_index);
  uint32_t free_before = ring_free_bytes(r->size, rd->cached_write, previous);
  uint32_t free_after = ring_free_bytes(r->size, rd->cached_write, rd->read);
  /* Equal counts as not enough: the ring may never be completely full. */
  return free_before <= pending && free_after > pending;
}

/* Whether a packet waits past the private read offset (reloads the writer's index). */
static int reader_has_packet(struct ring_reader *rd) {
  rd->cached_write = ring_peer_index(rd->ring, &rd->ring->control->write_index);
  return rd->cached_write != rd->read;
}

static void reader_mask(struct ring_reader *rd) {
  atomic_store_explicit(&rd->ring->control->interrupt_mask, 1, memory_order_relaxed);
}

/* Clears the mask and re-checks; true if still empty (safe to sleep), else masks again. */
static int reader_unmask_if_empty(struct ring_reader *rd) {
  struct ring *r = rd->ring;
  atomic_store_explicit(&r->control->interrupt_mask, 0, memory_order_relaxed);
  atomic_thread_fence(memory_order_seq_cst);
  rd->cached_write = ring_peer_index(r, &r->control->write_index);
  if (rd->cached_write == rd->read) return 1;
  reader_mask(rd);
  return 0;
}

#endif
