#include "bpf-monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bpf-program.h"

#define RINGBUF_BYTES (256u * 1024u) /* a power of two, a multiple of the page size */

struct bpf_monitor {
  int ringbuf, traced, lost, prog, link, epoll, stop;
  uint64_t *consumer;             /* our read position (shared with the kernel) */
  const uint64_t *producer;       /* the kernel's write position */
  const uint8_t *data;            /* the ring, mapped twice in a row so no record wraps */
  size_t page;
};

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int map_create(enum bpf_map_type type, uint32_t key, uint32_t value, uint32_t entries) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = type;
  a.key_size = key;
  a.value_size = value;
  a.max_entries = entries;
  /* Creates a kernel object owned by this descriptor. */
  return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static int map_set(int map, uint32_t key, uint32_t value) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)map;
  a.key = (uint64_t)(uintptr_t)&key;
  a.value = (uint64_t)(uintptr_t)&value;
  /* Writes one entry of our own map. */
  return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

/* Loads the program; on a verifier refusal the first line of its log goes into `e`. */
static int prog_load(const struct bpf_insn *insns, size_t count, struct fence_err *e) {
  static char log[4096];
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = (uint32_t)count;
  a.license = (uint64_t)(uintptr_t)"Dual MIT/GPL"; /* the probe_read helpers want a GPL-compatible one */
  /* Verifies and loads the program (not attached yet). The verifier gives up with EAGAIN when a
   * signal arrives (Node gets SIGCHLD whenever a child exits): try again, as libbpf does. */
  int fd = -1;
  for (int attempt = 0; attempt < 10 && fd < 0; attempt++) {
    fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
    if (fd < 0 && errno != EAGAIN) break;
  }
  if (fd >= 0 || errno != EACCES) return fd >= 0 ? fd : fence_fail(e, errno, "ebpf: load the program");
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.log_size = sizeof log;
  a.log_level = 1;
  log[0] = '\0';
  (void)sys_bpf(BPF_PROG_LOAD, &a);
  return fence_fail(e, 0, "ebpf: the verifier refused the program: %.300s", log);
}

/* Fills the table of traced syscalls: what the program reads for each. */
static int fill_traced(int map) {
  for (size_t i = 0; i < bpf_traced_count; i++)
    if (map_set(map, (uint32_t)bpf_traced[i].nr, bpf_traced[i].args) != 0) return -1;
  return 0;
}

static void close_fd(int *fd) {
  if (*fd >= 0) (void)close(*fd);
  *fd = -1;
}

void bpf_monitor_free(struct bpf_monitor *m) {
  if (m == NULL) return;
  /* Closing the link detaches the program; the maps go with their last descriptor. */
  close_fd(&m->link);
  close_fd(&m->prog);
  if (m->consumer) (void)munmap(m->consumer, m->page);
  if (m->producer) (void)munmap((void *)m->producer, m->page + 2 * RINGBUF_BYTES);
  close_fd(&m->ringbuf);
  close_fd(&m->traced);
  close_fd(&m->lost);
  close_fd(&m->epoll);
  close_fd(&m->stop);
  free(m);
}

/* Maps and program, not attached. */
static struct bpf_monitor *load(uint64_t dev, uint64_t ino, struct fence_err *e) {
  struct bpf_monitor *m = calloc(1, sizeof *m);
  if (m == NULL) return fence_fail(e, ENOMEM, "ebpf"), NULL;
  m->link = m->prog = m->epoll = m->stop = -1;
  m->page = (size_t)sysconf(_SC_PAGESIZE);
  m->ringbuf = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, RINGBUF_BYTES);
  m->traced = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, BPF_TRACED_MAX_NR);
  m->lost = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
  if (m->ringbuf < 0 || m->traced < 0 || m->lost < 0) {
    fence_fail(e, errno, "ebpf: create the maps");
  } else if (fill_traced(m->traced) != 0) {
    fence_fail(e, errno, "ebpf: fill the syscall table");
  } else {
    struct bpf_insn insns[BPF_PROGRAM_MAX];
    size_t n = bpf_program_build(insns, dev, ino, m->ringbuf, m->traced, m->lost);
    m->prog = prog_load(insns, n, e);
    if (m->prog >= 0) return m;
  }
  bpf_monitor_free(m);
  return NULL;
}

int bpf_monitor_probe(struct fence_err *e) {
  struct bpf_monitor *m = load(0, 0, e);
  bpf_monitor_free(m);
  return m ? 0 : -1;
}

struct bpf_monitor *bpf_monitor_open(uint64_t dev, uint64_t ino, struct fence_err *e) {
  struct bpf_monitor *m = load(dev, ino, e);
  if (m == NULL) return NULL;
  /* Shares the ring with the kernel: our position read-write, the kernel's and the data read-only. */
  void *consumer = mmap(NULL, m->page, PROT_READ | PROT_WRITE, MAP_SHARED, m->ringbuf, 0);
  void *producer = mmap(NULL, m->page + 2 * RINGBUF_BYTES, PROT_READ, MAP_SHARED, m->ringbuf, (off_t)m->page);
  m->consumer = consumer == MAP_FAILED ? NULL : consumer;
  m->producer = producer == MAP_FAILED ? NULL : producer;
  if (!m->consumer || !m->producer) return fence_fail(e, errno, "ebpf: map the ring buffer"), bpf_monitor_free(m), NULL;
  m->data = (const uint8_t *)m->producer + m->page;
  m->epoll = epoll_create1(EPOLL_CLOEXEC);
  m->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event ring = {.events = EPOLLIN, .data.fd = m->ringbuf}, stop = {.events = EPOLLIN, .data.fd = m->stop};
  if (m->epoll < 0 || m->stop < 0 || epoll_ctl(m->epoll, EPOLL_CTL_ADD, m->ringbuf, &ring) != 0 ||
      epoll_ctl(m->epoll, EPOLL_CTL_ADD, m->stop, &stop) != 0)
    return fence_fail(e, errno, "ebpf: epoll"), bpf_monitor_free(m), NULL;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.raw_tracepoint.name = (uint64_t)(uintptr_t)"sys_exit";
  a.raw_tracepoint.prog_fd = (uint32_t)m->prog;
  /* Attaches: from here on every syscall exit on the machine runs the program. */
  m->link = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a);
  if (m->link < 0) return fence_fail(e, errno, "ebpf: attach to the sys_exit tracepoint"), bpf_monitor_free(m), NULL;
  return m;
}

/* `1.2.3.4:80`, `[::1]:443`, `unix:/run/x.sock`, `unix:@abstract`, or `family N`. */
static void sockaddr_text(const uint8_t *raw, char *out, size_t size) {
  uint16_t family;
  memcpy(&family, raw, sizeof family);
  char addr[INET6_ADDRSTRLEN] = "";
  if (family == AF_INET) {
    struct sockaddr_in in;
    memcpy(&in, raw, sizeof in);
    inet_ntop(AF_INET, &in.sin_addr, addr, sizeof addr);
    snprintf(out, size, "%s:%u", addr, ntohs(in.sin_port));
  } else if (family == AF_INET6) {
    struct sockaddr_in6 in6;
    memcpy(&in6, raw, sizeof in6);
    inet_ntop(AF_INET6, &in6.sin6_addr, addr, sizeof addr);
    snprintf(out, size, "[%s]:%u", addr, ntohs(in6.sin6_port));
  } else if (family == AF_UNIX) {
    const char *path = (const char *)raw + 2;
    size_t max = BPF_SOCKADDR_BYTES - 3;
    if (path[0] == '\0') snprintf(out, size, "unix:@%.*s", (int)strnlen(path + 1, max), path + 1);
    else snprintf(out, size, "unix:%.*s", (int)strnlen(path, max), path);
  } else {
    snprintf(out, size, "family %u", family);
  }
}

static double boot_to_realtime_ms(uint64_t boot_ns) {
  struct timespec real, boot;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  double offset_ns = ((double)real.tv_sec - (double)boot.tv_sec) * 1e9 + ((double)real.tv_nsec - (double)boot.tv_nsec);
  return ((double)boot_ns + offset_ns) / 1e6;
}

static void handle(const struct bpf_record *r, void (*emit)(const struct bpf_event *, void *), void *ctx) {
  const struct bpf_traced *t = bpf_traced_find((int)r->nr);
  if (t == NULL) return;
  struct bpf_event ev = {.pid = (pid_t)r->pid, .tid = (pid_t)r->tid, .errnum = (int)-r->ret, .op = t->op};
  ev.time_ms = boot_to_realtime_ms(r->boot_ns);
  snprintf(ev.comm, sizeof ev.comm, "%.16s", r->comm);
  if (t->args & BPF_ARG_SOCKADDR) sockaddr_text((const uint8_t *)r->path[0], ev.target, sizeof ev.target);
  else if (t->args & BPF_ARG2(0)) snprintf(ev.target, sizeof ev.target, "%.255s -> %.255s", r->path[0], r->path[1]);
  else snprintf(ev.target, sizeof ev.target, "%.255s", r->path[0]);
  emit(&ev, ctx);
}

/* Hands every complete record to `emit` and gives its space back to the kernel. */
static void drain(struct bpf_monitor *m, void (*emit)(const struct bpf_event *, void *), void *ctx) {
  uint64_t cons = __atomic_load_n(m->consumer, __ATOMIC_ACQUIRE);
  for (;;) {
    uint64_t prod = __atomic_load_n(m->producer, __ATOMIC_ACQUIRE);
    if (cons >= prod) return;
    const uint32_t *hdr = (const uint32_t *)(m->data + (cons & (RINGBUF_BYTES - 1)));
    uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
    if (len & BPF_RINGBUF_BUSY_BIT) return; /* still being written: the next wake-up brings it */
    uint32_t size = len & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if (!(len & BPF_RINGBUF_DISCARD_BIT) && size >= sizeof(struct bpf_record))
      handle((const struct bpf_record *)(hdr + 2), emit, ctx);
    cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
    __atomic_store_n(m->consumer, cons, __ATOMIC_RELEASE);
  }
}

int bpf_monitor_run(struct bpf_monitor *m, void (*emit)(const struct bpf_event *, void *), void *ctx) {
  struct epoll_event evs[2];
  for (;;) {
    int n = epoll_wait(m->epoll, evs, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    drain(m, emit, ctx);
    if (n < 0) return -errno;
    for (int i = 0; i < n; i++)
      if (evs[i].data.fd == m->stop) return 0;
  }
}

void bpf_monitor_stop(struct bpf_monitor *m) {
  uint64_t one = 1;
  /* Wakes the loop, which drains once more and returns. */
  (void)!write(m->stop, &one, sizeof one);
}

uint64_t bpf_monitor_lost(const struct bpf_monitor *m) {
  uint32_t key = 0;
  uint64_t value = 0;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)m->lost;
  a.key = (uint64_t)(uintptr_t)&key;
  a.value = (uint64_t)(uintptr_t)&value;
  return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a) == 0 ? value : 0;
}
