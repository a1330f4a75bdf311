/* Crash containment for untrusted HDF5 files: cl_reader_probe.
 *
 * libhdf5 1.10.8 (Debian 12's) crashes on some corrupt files while it decodes object
 * headers, attributes and datatypes (SIGSEGV in H5A__close, SIGFPE in H5T_copy, heap
 * overflows in H5O__msg_iterate_real: tests/fuzz/hdf5-known/, docs/fuzzing.md). cleave
 * cannot validate those structures itself without re-implementing HDF5, so every file
 * opened by path is first opened in a forked child that does what readers do with its
 * metadata. A crash there kills only the child; the parent refuses the file with one
 * error line. The child is a copy of this process at the fork, so it sees the same
 * library state and heap, and it must leave the parent's resources alone: it never
 * closes an HDF5 id it inherited, and it ends with _exit (no atexit handlers: HDF5's
 * would flush and close the parent's open files, LeakSanitizer's would report).
 *
 * The cost is one fork plus a second open and metadata walk (docs/store.md gives the
 * measured overhead); CLEAVE_H5_PROBE=off skips it. cl_reader_open_image (the fuzz
 * harnesses) is never probed. */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS, MAP_NORESERVE (the index mapping) */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <time.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleave/vec.h"
#include "store_internal.h"

enum {
  HEAD_RECORDS = 64, /* records read from the start of every table */
  MAX_FIELDS = 64,   /* fields of a table read as its own layout */
  MAX_STRING = 4096  /* bytes; longer string fields are not read (as in the fuzz harness) */
};

/* ---- the child: what readers do with the file's metadata ---- */

static void discard_line(const char *line, void *ctx) {
  (void)line;
  (void)ctx;
}

static void ignore_attr(const char *name, const char *value, void *ud) {
  (void)name;
  (void)value;
  (void)ud;
}

/* Records [start, start+n) of table @p t read as its own layout (every representable
 * field, naturally aligned): the datatype conversion path and the chunk index. */
static void read_own_layout(cl_reader *r, const cl_table_info *t, uint64_t start, size_t n) {
  cl_field f[MAX_FIELDS];
  int k = 0;
  size_t off = 0;
  for (int i = 0; i < t->n_fields && k < MAX_FIELDS; i++) {
    const cl_field_info *fi = &t->fields[i];
    if (fi->type == CL_F_COUNT || !fi->size || fi->size > MAX_STRING) continue;
    f[k++] = (cl_field){fi->name, fi->type, off, fi->size, NULL, NULL, NULL};
    off += (fi->size + 7) & ~(size_t)7;
  }
  if (!k || !n) return;
  const cl_table_desc as = {t->path, off, f, k, "", 0};
  void *buf = calloc(n, off);
  if (buf) (void)cl_reader_read(r, t->path, &as, start, n, buf);
  free(buf);
}

/* The first records of table @p d->path read as the declared layout @p d. */
static void read_declared(cl_reader *r, const cl_table_desc *d) {
  const cl_table_info *ti = cl_reader_find(r, d->path);
  if (!ti || !ti->n_records) return;
  size_t n = ti->n_records < HEAD_RECORDS ? (size_t)ti->n_records : HEAD_RECORDS;
  void *buf = malloc(n * d->record_size);
  if (buf) (void)cl_rec_read(r, d, 0, n, buf, NULL);
  free(buf);
}

/* ---- the attribute index the child builds and the parent reads ---- */

static void index_clear(cl__attr_index *x) {
  for (int i = 0; i < x->n; i++) {
    for (int k = 0; k < x->obj[i].n; k++) free(x->obj[i].names[k]);
    free(x->obj[i].names);
    free(x->obj[i].path);
  }
  free(x->obj);
  x->obj = NULL;
  x->n = x->cap = 0;
}

void cl__attr_index_free(cl__attr_index *x) {
  if (!x) return;
  index_clear(x);
  if (x->map_len)
    munmap(x, x->map_len);
  else
    free(x);
}

static void index_parse(cl__attr_index *x);

const cl__attr_obj *cl__attr_index_find(const cl__attr_index *cx, const char *path) {
  cl__attr_index *x = (cl__attr_index *)cx; /* parsed on first use: logically const */
  if (x && !x->parsed) index_parse(x);
  for (int i = 0; x && path && i < x->n; i++)
    if (!strcmp(x->obj[i].path, path)) return &x->obj[i];
  return NULL;
}

/* A new object entry (path copied), or NULL when out of memory. */
static cl__attr_obj *index_add_obj(cl__attr_index *x, const char *path, size_t len) {
  if (CL_VEC_RESERVE(x->obj, x->cap, x->n + 1, 16) != CL_OK) return NULL;
  char *p = malloc(len + 1);
  if (!p) return NULL;
  memcpy(p, path, len);
  p[len] = '\0';
  x->obj[x->n] = (cl__attr_obj){p, 0, 0, NULL};
  return &x->obj[x->n++];
}

static int index_add_name(cl__attr_obj *o, const char *name, size_t len) {
  if ((o->n & 15) == 0) {
    char **nn = realloc(o->names, (size_t)(o->n + 16) * sizeof *nn);
    if (!nn) return -1;
    o->names = nn;
  }
  char *p = malloc(len + 1);
  if (!p) return -1;
  memcpy(p, name, len);
  p[len] = '\0';
  o->names[o->n++] = p;
  return 0;
}

/* The child's index (pass 0) and its scratch file (pass 3). */
static cl__attr_index *g_index;
static int g_index_oom;
static hid_t g_scratch = H5I_INVALID_HID;
static unsigned g_scratch_n;

static void list_name(const char *name, const char *value, void *ud) {
  (void)value;
  if (index_add_name(ud, name, strlen(name)) < 0) g_index_oom = 1;
}

/* Pass 0: list the attributes of @p path (H5Aiterate2: the child may crash doing it). */
static void list_attrs(cl_reader *r, const char *path) {
  cl__attr_obj *o = g_index ? index_add_obj(g_index, path, strlen(path)) : NULL;
  if (!o) {
    g_index_oom = 1;
    (void)cl_reader_attrs(r, path, ignore_attr, NULL);
    return;
  }
  if (cl_reader_attrs(r, path, list_name, o) != CL_OK) o->failed = 1;
}

/* Pass 3: merge's copies of every listed object's attributes (by name, as the parent's
 * merge does with the index), of /provenance and of the other datasets, into
 * an in-memory file. A failed attribute copy once left libhdf5 with a freed attribute
 * that H5Fclose of the input closed again (SIGSEGV in `cleave merge`, tests/data/h5). */
static void replay_merge(cl_reader *r) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_fapl_core(fapl, 64 * 1024, 0) >= 0)
    g_scratch = H5Fcreate("cleave-probe-scratch.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (fapl >= 0) H5Pclose(fapl);
  if (g_scratch < 0) return;
  hid_t f = cl__reader_file(r);
  for (int i = 0; g_index && i < g_index->n; i++) {
    const char *path = g_index->obj[i].path;
    char dname[32];
    snprintf(dname, sizeof dname, "o%u", g_scratch_n++);
    hid_t g = H5Gcreate2(g_scratch, dname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) continue;
    H5Gclose(g);
    (void)cl__merge_copy_attrs(f, g_index, path, g_scratch, dname);
    H5O_info_t info;
    if (strcmp(path, "/") && !cl_reader_find(r, path) && H5Oget_info_by_name(f, path, &info, H5P_DEFAULT) >= 0 &&
        (info.type == H5O_TYPE_DATASET || !strcmp(path, "/provenance"))) {
      snprintf(dname, sizeof dname, "/c%u", g_scratch_n++);
      (void)cl__merge_copy_object(f, g_index, path, g_scratch, dname);
    }
  }
  H5Fclose(g_scratch);
  g_scratch = H5I_INVALID_HID;
}

/* The index to the parent: records 'O' path, 'A' name, 'F' (listing failed), each a
 * type byte and a 4-byte length; nothing when the child ran out of memory. */
static void put(int fd, char type, const char *s) {
  uint32_t len = s ? (uint32_t)strlen(s) : 0;
  char head[5] = {type};
  memcpy(head + 1, &len, 4);
  if (write(fd, head, 5) != 5 || (len && write(fd, s, len) != (ssize_t)len)) _exit(0);
}
static void send_index(int fd) {
  if (fd < 0 || !g_index || g_index_oom) return;
  for (int i = 0; i < g_index->n; i++) {
    const cl__attr_obj *o = &g_index->obj[i];
    put(fd, 'O', o->path);
    if (o->failed) put(fd, 'F', NULL);
    for (int k = 0; !o->failed && k < o->n; k++) put(fd, 'A', o->names[k]);
  }
  put(fd, 'E', NULL);
}

/* Every object: its attributes (sorted, as report and merge read them); tables: the
 * head and the last record; other datasets: read as text (provenance/config). */
static herr_t visit_object(hid_t root, const char *name, const H5O_info_t *info, void *ud) {
  (void)root;
  cl_reader *r = ud;
  char path[1100];
  if (!strcmp(name, "."))
    snprintf(path, sizeof path, "/");
  else
    snprintf(path, sizeof path, "/%s", name);
  if (g_index)
    list_attrs(r, path);
  else
    (void)cl_reader_attrs(r, path, ignore_attr, NULL);
  if (info->type != H5O_TYPE_DATASET) return 0;
  const cl_table_info *t = cl_reader_find(r, path);
  if (!t) {
    char *text = NULL;
    (void)cl_reader_text(r, path, &text);
    free(text);
    return 0;
  }
  size_t head = t->n_records < HEAD_RECORDS ? (size_t)t->n_records : HEAD_RECORDS;
  read_own_layout(r, t, 0, head);
  if (t->n_records > head) read_own_layout(r, t, t->n_records - 1, 1);
  if (t->is_dict) {
    cl_table_desc dd = CL_REC_DICTS;
    dd.path = t->path;
    read_declared(r, &dd);
  }
  return 0;
}

/* M_PERTURB also fills every fresh block, so a size that corrupt metadata makes libhdf5
 * ask for (21 GB from one fuzzed 21 KB profile) would be written in full instead of
 * staying untouched overcommitted memory: the probe would thrash for minutes where the
 * plain open fails in milliseconds. The child may grow by 1 GiB at most (a metadata walk
 * needs a few MB); beyond that malloc returns NULL, which libhdf5 reports as an error.
 * Not under AddressSanitizer: its allocator ignores M_PERTURB, and its shadow memory
 * would not fit an address-space limit. */
#if defined(__SANITIZE_ADDRESS__)
#define CL_PROBE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CL_PROBE_ASAN 1
#endif
#endif
static void limit_memory(void) {
#ifndef CL_PROBE_ASAN
  unsigned long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
  }
  if (!pages) return;
  rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
  struct rlimit rl = {cap, cap};
  (void)setrlimit(RLIMIT_AS, &rl);
#endif
}

/* How commands read a file, after the reader's open (reader_init); each pass opens it
 * afresh (libhdf5's behaviour on a damaged file depends on what it decoded before: a
 * command that read /provenance's attributes first crashed where a walk that had read
 * other objects did not):
 *  0: everything (cl_reader_walk), listing every object's attributes (the index);
 *  1: the profile readers (`sim`/`run`/`plan --profile`): /profile's keys by name, the
 *     declared tables, /provenance's keys;
 *  2: `report`, `sim --compare`: /provenance's attributes by name from the index;
 *  3: merge's attribute and object copies, into an in-memory scratch file.
 * Passes 1-3 read attributes through the index, as the parent will. */
enum { PROBE_PASSES = 4 };
static void probe_pass(cl_reader *r, int pass) {
  static const char *const keys[][2] = {{"/profile", "model"},   {"/profile", "backend"},
                                        {"/profile", "fused"},   {"/profile", "slowdown"},
                                        {"/provenance", "host"}, {"/provenance", "config_sha256"}};
  if (pass == 0) {
    g_index = calloc(1, sizeof *g_index);
    if (g_index) g_index->parsed = 1; /* built here, not from bytes */
    cl_reader_walk(r);
    return;
  }
  if (g_index && !g_index_oom) cl__reader_use_attr_index(r, g_index);
  if (pass == 1) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      if (i == 4)
        for (const cl_rec_entry *e = cl_rec_all(); e->desc; e++) read_declared(r, e->desc);
      char *v = NULL;
      (void)cl_reader_attr_text(r, keys[i][0], keys[i][1], &v);
      free(v);
    }
  } else if (pass == 2) {
    (void)cl_reader_attrs(r, "/provenance", ignore_attr, NULL);
  } else {
    replay_merge(r);
  }
}

/* Exit status of a child that found a damaged table: PROBE_DAMAGED + CL__DAMAGE_*. */
enum { PROBE_DAMAGED = 10 };

/* Never returns. Exit status 0 whatever HDF5 reports (only a crash is a finding), or
 * PROBE_DAMAGED. */
static void probe_child(const char *path, int index_fd) {
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    (void)dup2(fd, STDOUT_FILENO);
    (void)dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
  }
  cl_log_set_sink(discard_line, NULL); /* a test's sink or a log file is the parent's */
  /* Die by the signal itself, whatever handlers the parent (or a sanitizer) installed,
   * so the parent can name it. */
  static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS};
  for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
  /* First the open exactly as the parent will do it next, from the same heap (the
   * parent allocates nothing in between: the index goes to a mapping), so a libhdf5 read
   * past a buffer that faults in the parent's open faults here first: `merge` died in
   * its second input's open on a file whose probe, on a heap laid out otherwise, passed. */
  int damaged = 0;
  {
    cl_reader *r = NULL;
    if (cl__reader_open_unprobed(path, &r, &damaged) == CL_OK) cl_reader_close(r);
  }
  /* glibc fills freed and fresh blocks with a pattern: libhdf5's use-after-free of
   * attribute tables then faults in the child instead of depending on what the heap
   * happened to hold (it reads stale but valid pointers without this). */
  (void)mallopt(M_PERTURB, 0xa5);
  limit_memory();
  (void)H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  /* libhdf5's behaviour on a damaged file depends on what it decoded before (a command
   * that reads /provenance's attributes first crashed where the walk, which had read
   * other objects, did not). So the file is opened afresh for each way commands begin
   * reading it, each open from its own empty metadata cache, as the parent's will be. */
  for (int pass = 0; pass < PROBE_PASSES && !damaged; pass++) {
    cl_reader *r = NULL;
    if (cl__reader_open_unprobed(path, &r, &damaged) != CL_OK) break; /* the real open says why */
    cl__reader_skip_checksums(r);
    probe_pass(r, pass);
    cl_reader_close(r); /* the child's own file id: closing it exercises H5A/H5O release */
  }
  if (!damaged) send_index(index_fd);
  /* A damaged table is refused like a crash: a process that opens the file by other
   * means (cl_store_open_append) would let libhdf5 convert records with a corrupt type,
   * or append after billions of fill records. */
  _exit(damaged ? PROBE_DAMAGED + damaged : 0);
}

void cl_reader_walk(cl_reader *r) {
  if (!r) return;
  (void)H5Ovisit(cl__reader_file(r), H5_INDEX_NAME, H5_ITER_INC, visit_object, r);
  for (const cl_rec_entry *e = cl_rec_all(); e->desc; e++) read_declared(r, e->desc);
}

/* ---- the parent ---- */

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    case SIGSYS:
      return "SIGSYS";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    case SIGQUIT:
      return "SIGQUIT";
    default:
      return NULL;
  }
}

static int probe_disabled(void) {
  const char *v = getenv("CLEAVE_H5_PROBE");
  return v && (!strcmp(v, "off") || !strcmp(v, "0"));
}

/* The child's bytes, at most 64 MiB: they and the index header live in an anonymous
 * mapping (pages are touched only as far as the bytes go). */
enum { INDEX_MAX = 64 << 20 };

/* Reads the child's index from @p fd to EOF (a child that dies mid-way ends it) into a
 * mapping; NULL when it does not fit or the mapping fails. Parsed later (index_parse). */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds the child may take (CLEAVE_H5_PROBE_TIMEOUT, default 60, at least 1). */
static double probe_timeout(void) {
  const char *v = getenv("CLEAVE_H5_PROBE_TIMEOUT");
  char *end = NULL;
  double t = v && *v ? strtod(v, &end) : 60;
  if (v && *v && (!end || *end || !(t >= 1) || !isfinite(t))) {
    cl_log_warn("CLEAVE_H5_PROBE_TIMEOUT='%s' is not a number of seconds >= 1; using 60", v);
    t = 60;
  }
  return t;
}

/* Reads the child's index from @p fd to EOF (a child that dies mid-way ends it) into a
 * mapping; NULL when it does not fit or the mapping fails. Parsed later (index_parse).
 * *@p hung = 1 when EOF did not come before @p deadline (CLOCK_MONOTONIC seconds). */
static cl__attr_index *read_index(int fd, double deadline, int *hung) {
  *hung = 0;
  const size_t head = (sizeof(cl__attr_index) + 63) & ~(size_t)63, map_len = head + INDEX_MAX;
  void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *buf = m == MAP_FAILED ? NULL : (char *)m + head;
  size_t len = 0;
  int over = !buf;
  for (;;) {
    const double left = deadline - now_s();
    struct pollfd pf = {fd, POLLIN, 0};
    const int pr = left > 0 ? poll(&pf, 1, (int)ceil(fmin(left, 1e6) * 1e3)) : 0;
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) {
      *hung = 1;
      break;
    }
    char sink[4096];
    ssize_t n = over || len == INDEX_MAX ? read(fd, sink, sizeof sink) : read(fd, buf + len, INDEX_MAX - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (over || len == INDEX_MAX)
      over = 1;
    else
      len += (size_t)n;
  }
  if (over || *hung) {
    if (m != MAP_FAILED) munmap(m, map_len);
    return NULL;
  }
  cl__attr_index *x = m;
  memset(x, 0, sizeof *x);
  x->raw = buf;
  x->raw_len = len;
  x->map_len = map_len;
  return x;
}

/* The child's records into objects and names; a malformed or truncated stream leaves
 * no object (every attribute read then reports the file as damaged). */
static void index_parse(cl__attr_index *x) {
  x->parsed = 1;
  const char *buf = x->raw;
  const size_t len = x->raw_len;
  cl__attr_obj *o = NULL;
  int ended = 0, bad = 0;
  size_t at = 0;
  while (buf && !ended && !bad && at + 5 <= len) {
    const char type = buf[at];
    uint32_t sl;
    memcpy(&sl, buf + at + 1, 4);
    at += 5;
    if (sl > 65536 || sl > len - at) {
      bad = 1;
      break;
    }
    const char *str = buf + at;
    at += sl;
    if (type == 'O') {
      o = index_add_obj(x, str, sl);
      bad = !o;
    } else if (type == 'A' && o && !o->failed) {
      bad = index_add_name(o, str, sl) < 0;
    } else if (type == 'F' && o) {
      o->failed = 1;
    } else if (type == 'E') {
      ended = 1;
    } else {
      bad = 1;
    }
  }
  if (bad || !ended || at != len) index_clear(x);
}

cl_status cl_reader_probe(const char *path, cl_probe_outcome *outcome) {
  return cl__reader_probe_index(path, outcome, NULL);
}

cl_status cl__reader_probe_index(const char *path, cl_probe_outcome *outcome, cl__attr_index **idx) {
  if (idx) *idx = NULL;
  if (outcome) *outcome = CL_PROBE_SKIPPED;
  struct stat sb;
  /* Missing or unreadable paths, directories and FIFOs: the real open says what is wrong
   * (and a child opening a FIFO would block). */
  if (!path || probe_disabled() || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return CL_OK;
  /* Initialise libhdf5 here, once, rather than in every child (this process opens the
   * file next anyway). */
  (void)H5open();
  /* The pipe carries the attribute index, and its end of file says the child is done
   * (or dead): without it (pipe failed) there is no index, and no time limit. */
  int pfd[2] = {-1, -1};
  if (pipe(pfd) != 0) pfd[0] = pfd[1] = -1;
  for (int i = 0; i < 2; i++)
    if (pfd[i] >= 0) (void)fcntl(pfd[i], F_SETFD, FD_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    cl_log_warn("'%s': cannot check it in a separate process first (fork: %s); opening it unchecked", path,
                strerror(errno));
    if (pfd[0] >= 0) close(pfd[0]);
    if (pfd[1] >= 0) close(pfd[1]);
    return CL_OK;
  }
  if (pid == 0) {
    if (pfd[0] >= 0) close(pfd[0]);
    probe_child(path, pfd[1]);
  }
  cl__attr_index *x = NULL;
  int hung = 0;
  const double limit = probe_timeout();
  if (pfd[1] >= 0) {
    close(pfd[1]);
    x = read_index(pfd[0], now_s() + limit, &hung);
    close(pfd[0]);
  }
  if (hung) {
    /* libhdf5 loops forever on some corrupt group structures (fuzzed profiles): a
     * command would hang with it. */
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) continue;
    if (outcome) *outcome = CL_PROBE_HUNG;
    cl_log_error("'%s': damaged HDF5 file: libhdf5 did not finish reading its metadata within %g s (a loop in its "
                 "structure?); cleave did not open it (CLEAVE_H5_PROBE_TIMEOUT=SECONDS waits longer)",
                 path, limit);
    return CL_ERR_HDF5;
  }
  int ws = 0;
  pid_t w;
  while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR) continue;
  if (w < 0) {
    /* ECHILD: SIGCHLD ignored or another waiter reaped it; the outcome is unknown. */
    cl_log_info("'%s': its probe's exit status was lost (waitpid: %s); opening it unchecked", path,
                strerror(errno));
    cl__attr_index_free(x);
    return CL_OK;
  }
  if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
    if (outcome) *outcome = CL_PROBE_PASSED;
    if (idx)
      *idx = x;
    else
      cl__attr_index_free(x);
    return CL_OK;
  }
  cl__attr_index_free(x);
  if (WIFEXITED(ws) && (WEXITSTATUS(ws) == PROBE_DAMAGED + CL__DAMAGE_LAYOUT ||
                        WEXITSTATUS(ws) == PROBE_DAMAGED + CL__DAMAGE_UNBACKED ||
                        WEXITSTATUS(ws) == PROBE_DAMAGED + CL__DAMAGE_NESTING)) {
    if (outcome) *outcome = CL_PROBE_DAMAGED;
    cl_log_error("'%s': damaged HDF5 file: %s; cleave did not open it", path,
                 cl__damage_text(WEXITSTATUS(ws) - PROBE_DAMAGED));
    return CL_ERR_HDF5;
  }
  const int sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
  if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
    /* Ctrl-C or a job manager: not the file's fault. */
    cl_log_error("'%s': checking this HDF5 file was interrupted (%s); cleave did not open it", path,
                 signal_name(sig));
    return CL_ERR_IO;
  }
  char why[64];
  if (sig) {
    const char *name = signal_name(sig);
    if (name)
      snprintf(why, sizeof why, "%s", name);
    else
      snprintf(why, sizeof why, "signal %d", sig);
  } else {
    /* A sanitizer's report ends the process with exit status 1 by default. */
    snprintf(why, sizeof why, "a memory error: exit status %d", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
  }
  if (outcome) *outcome = CL_PROBE_CRASHED;
  cl_log_error("'%s': damaged HDF5 file: libhdf5 crashed (%s) reading its metadata; cleave did not open it",
               path, why);
  return CL_ERR_HDF5;
}
