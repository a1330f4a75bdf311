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
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The child's scratch file: an in-memory HDF5 file (no backing store) that receives
 * merge's attribute copies, so the child takes merge's path through the attributes
 * (open, type, space, raw read, create, write) and not only the reader's. A failed copy
 * once left libhdf5 with a freed attribute that H5Fclose of the input then closed
 * (SIGSEGV in `cleave merge`, tests/data/h5). */
static hid_t g_scratch = H5I_INVALID_HID;
static unsigned g_scratch_n;

static void replay_merge_attrs(cl_reader *r, const char *path) {
  if (g_scratch < 0) return;
  char dname[32];
  snprintf(dname, sizeof dname, "o%u", g_scratch_n++);
  hid_t g = H5Gcreate2(g_scratch, dname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return;
  H5Gclose(g);
  (void)cl__merge_copy_attrs(cl__reader_file(r), path, g_scratch, dname);
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
  (void)cl_reader_attrs(r, path, ignore_attr, NULL);
  replay_merge_attrs(r, path);
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

/* Exit status of a child that found a damaged table: PROBE_DAMAGED + CL__DAMAGE_*. */
enum { PROBE_DAMAGED = 10 };

/* Never returns. Exit status 0 whatever HDF5 reports (only a crash is a finding), or
 * PROBE_DAMAGED. */
static void probe_child(const char *path) {
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
  /* glibc fills freed and fresh blocks with a pattern: libhdf5's use-after-free of
   * attribute tables then faults in the child instead of depending on what the heap
   * happened to hold (it reads stale but valid pointers without this). */
  (void)mallopt(M_PERTURB, 0xa5);
  limit_memory();
  (void)H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  cl_reader *r = NULL;
  int damaged = 0;
  if (cl__reader_open_unprobed(path, &r, &damaged) == CL_OK) {
    cl__reader_skip_checksums(r);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 64 * 1024, 0) >= 0)
      g_scratch = H5Fcreate("cleave-probe-scratch.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    /* First what commands read first (libhdf5's behaviour on a damaged file depends on
     * what it read before): the profile readers' keys by name, then report's and
     * `sim --compare`'s pass over /provenance; then the whole walk. */
    static const char *const keys[][2] = {{"/profile", "model"},      {"/profile", "backend"},
                                          {"/profile", "fused"},      {"/profile", "slowdown"},
                                          {"/provenance", "host"},    {"/provenance", "config_sha256"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
      char *v = NULL;
      (void)cl_reader_attr_text(r, keys[i][0], keys[i][1], &v);
      free(v);
    }
    (void)cl_reader_attrs(r, "/provenance", ignore_attr, NULL);
    cl_reader_walk(r);
    if (g_scratch >= 0) H5Fclose(g_scratch);
    cl_reader_close(r); /* the child's own file id: closing it exercises H5A/H5O release */
  }
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

cl_status cl_reader_probe(const char *path, cl_probe_outcome *outcome) {
  if (outcome) *outcome = CL_PROBE_SKIPPED;
  struct stat sb;
  /* Missing or unreadable paths, directories and FIFOs: the real open says what is wrong
   * (and a child opening a FIFO would block). */
  if (!path || probe_disabled() || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return CL_OK;
  /* Initialise libhdf5 here, once, rather than in every child (this process opens the
   * file next anyway). */
  (void)H5open();
  pid_t pid = fork();
  if (pid < 0) {
    cl_log_warn("'%s': cannot check it in a separate process first (fork: %s); opening it unchecked", path,
                strerror(errno));
    return CL_OK;
  }
  if (pid == 0) probe_child(path);
  int ws = 0;
  pid_t w;
  while ((w = waitpid(pid, &ws, 0)) < 0 && errno == EINTR) continue;
  if (w < 0) {
    /* ECHILD: SIGCHLD ignored or another waiter reaped it; the outcome is unknown. */
    cl_log_info("'%s': its probe's exit status was lost (waitpid: %s); opening it unchecked", path,
                strerror(errno));
    return CL_OK;
  }
  if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
    if (outcome) *outcome = CL_PROBE_PASSED;
    return CL_OK;
  }
  if (WIFEXITED(ws) && (WEXITSTATUS(ws) == PROBE_DAMAGED + CL__DAMAGE_LAYOUT ||
                        WEXITSTATUS(ws) == PROBE_DAMAGED + CL__DAMAGE_UNBACKED)) {
    if (outcome) *outcome = CL_PROBE_DAMAGED;
    cl_log_error("'%s': damaged HDF5 file: a table %s; cleave did not open it", path,
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
