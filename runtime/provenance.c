/* Run provenance under /provenance, and a self-contained SHA-256 (FIPS 180-4). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cleave/build_info.h"
#include "cleave/exec.h"
#include "store/store_internal.h"

/* ---- SHA-256 ---- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void cl_sha256_init(cl_sha256_ctx *c) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, h0, sizeof h0);
  c->nbytes = 0;
  c->fill = 0;
}

void cl_sha256_update(cl_sha256_ctx *c, const void *data, size_t n) {
  const uint8_t *p = data;
  c->nbytes += n;
  while (n > 0) {
    if (c->fill == 0 && n >= 64) {
      sha256_block(c->h, p);
      p += 64;
      n -= 64;
      continue;
    }
    size_t k = 64 - c->fill < n ? 64 - c->fill : n;
    memcpy(c->block + c->fill, p, k);
    c->fill += k;
    p += k;
    n -= k;
    if (c->fill == 64) {
      sha256_block(c->h, c->block);
      c->fill = 0;
    }
  }
}

void cl_sha256_final(cl_sha256_ctx *c, uint8_t digest[32]) {
  uint64_t bits = c->nbytes * 8;
  uint8_t pad[72] = {0x80};
  size_t padn = (c->fill < 56 ? 56 - c->fill : 120 - c->fill);
  for (int i = 0; i < 8; i++) pad[padn + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
  cl_sha256_update(c, pad, padn + 8);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(c->h[i] >> (24 - 8 * j));
}

void cl_sha256_hex(const void *data, size_t n, char hex[65]) {
  cl_sha256_ctx c;
  uint8_t d[32];
  cl_sha256_init(&c);
  cl_sha256_update(&c, data, n);
  cl_sha256_final(&c, d);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* ---- system provenance ---- */

/* `git describe` of the source tree, computed once per process ("" if unavailable). */
static const char *git_describe(void) {
  static char desc[128];
  static int done;
  if (done) return desc;
  done = 1;
  if (getenv("CLEAVE_NO_GIT")) return desc;
  char cmd[1200];
  int n = snprintf(cmd, sizeof cmd,
                   "git -C '%s' describe --always --dirty --abbrev=40 2>/dev/null", CL_SOURCE_DIR);
  if (n < 0 || (size_t)n >= sizeof cmd || strchr(CL_SOURCE_DIR, '\'')) return desc;
  FILE *p = popen(cmd, "r");
  if (!p) return desc;
  if (!fgets(desc, sizeof desc, p)) desc[0] = '\0';
  if (pclose(p) != 0) desc[0] = '\0';
  desc[strcspn(desc, "\r\n")] = '\0';
  return desc;
}

static void cpu_model(char *out, size_t n) {
  snprintf(out, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "model name", 10)) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ' || *c == '\t') c++;
        c[strcspn(c, "\n")] = '\0';
        snprintf(out, n, "%s", c);
      }
      break;
    }
  }
  fclose(f);
}

static void utc_now(char *out, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cl_status cl__prov_write_base(cl_store *s) {
  hid_t lcpl = cl__h5_lcpl();
  hid_t g = lcpl >= 0 ? H5Gcreate2(s->file, s->prov_group, lcpl, H5P_DEFAULT, H5P_DEFAULT)
                      : H5I_INVALID_HID;
  if (lcpl >= 0) H5Pclose(lcpl);
  if (g < 0) {
    cl_log_error("store: cannot create provenance group '%s' in '%s'", s->prov_group, s->path);
    return CL_ERR_HDF5;
  }
  char host[256] = "unknown", kernel[512] = "unknown", cpu[256], utc[64], mpiv[MPI_MAX_LIBRARY_VERSION_STRING];
  char h5v[64];
  if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
  host[sizeof host - 1] = '\0';
  struct utsname u;
  if (uname(&u) == 0) snprintf(kernel, sizeof kernel, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
  cpu_model(cpu, sizeof cpu);
  utc_now(utc, sizeof utc);
  int mlen = 0;
  /* Callable before MPI_Init (MPI-3). Keep only the first line. */
  if (MPI_Get_library_version(mpiv, &mlen) != MPI_SUCCESS) snprintf(mpiv, sizeof mpiv, "unknown");
  mpiv[strcspn(mpiv, "\n")] = '\0';
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  snprintf(h5v, sizeof h5v, "%u.%u.%u", maj, min, rel);
  const char *desc = git_describe();
  size_t dl = strlen(desc);
  int dirty = dl == 0 ? -1 : (dl > 6 && !strcmp(desc + dl - 6, "-dirty"));
  char commit[64];
  /* describe --always prints the bare hash when there is no tag. */
  snprintf(commit, sizeof commit, "%.*s", (int)(dirty == 1 ? dl - 6 : dl), desc);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);

  cl_status st = CL_OK;
#define PUT_S(name, val) \
  if (st == CL_OK) st = cl__h5_attr_str(g, name, val)
#define PUT_I(name, val) \
  if (st == CL_OK) st = cl__h5_attr_i64(g, name, val)
  PUT_S("cleave_version", CL_VERSION_STRING);
  PUT_S("git_commit", dl ? commit : CL_GIT_REV_CONFIGURED);
  PUT_I("git_dirty", dirty);
  PUT_S("git_source", dl ? "runtime: git describe of " CL_SOURCE_DIR : "configured at build time");
  PUT_S("git_commit_build", CL_GIT_REV_CONFIGURED);
  PUT_S("compiler", CL_C_COMPILER);
  PUT_S("c_flags", CL_C_FLAGS);
  PUT_S("build_type", CL_BUILD_TYPE);
  PUT_S("host", host);
  PUT_S("kernel", kernel);
  PUT_S("cpu_model", cpu);
  PUT_I("n_cpus", (int64_t)sysconf(_SC_NPROCESSORS_ONLN));
  PUT_S("mpi_version", mpiv);
  PUT_S("hdf5_version", h5v);
  PUT_S("utc_time", utc);
  if (st == CL_OK) st = cl__h5_attr_f64(g, "unix_time", (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  PUT_I("rank", s->opts.n_ranks > 1 ? s->opts.rank : 0);
  PUT_I("n_ranks", s->opts.n_ranks > 1 ? s->opts.n_ranks : 1);
  PUT_I("pid", (int64_t)getpid());
  PUT_S("file", s->path);
#undef PUT_S
#undef PUT_I
  H5Gclose(g);
  return st;
}

const char *cl_store_provenance_group(const cl_store *s) { return s ? s->prov_group : NULL; }

/* Size and SHA-256 of a model file, streamed (ONNX files reach hundreds of MB). */
static cl_status hash_file(const char *path, int64_t *bytes, char hex[65]) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    cl_log_error("provenance: cannot open model file '%s' to hash it", path);
    return CL_ERR_IO;
  }
  enum { CHUNK = 1 << 20 };
  unsigned char *buf = malloc(CHUNK);
  if (!buf) {
    fclose(f);
    return CL_ERR_NOMEM;
  }
  cl_sha256_ctx c;
  cl_sha256_init(&c);
  size_t got;
  *bytes = 0;
  while ((got = fread(buf, 1, CHUNK, f)) > 0) {
    cl_sha256_update(&c, buf, got);
    *bytes += (int64_t)got;
  }
  int err = ferror(f);
  fclose(f);
  free(buf);
  if (err) {
    cl_log_error("provenance: read error while hashing model file '%s'", path);
    return CL_ERR_IO;
  }
  uint8_t d[32];
  cl_sha256_final(&c, d);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
  return CL_OK;
}

cl_status cl_store_write_provenance(cl_store *s, const cl_provenance *p) {
  if (!s || !p) return CL_ERR_INVALID;
  if (s->prov_written) {
    cl_log_error("store: provenance of '%s' written twice", s->path);
    return CL_ERR_INVALID;
  }
  if (!cl__h5_exists(s->file, s->prov_group)) CL_TRY(cl__prov_write_base(s));
  hid_t g = H5Gopen2(s->file, s->prov_group, H5P_DEFAULT);
  if (g < 0) return CL_ERR_HDF5;
  cl_status st = CL_OK;
  /* Command line: one joined string (quoted where needed) and the argv array. */
  size_t len = 1;
  for (int i = 0; i < p->argc; i++) len += strlen(p->argv[i]) + 3;
  char *cmd = calloc(len, 1);
  if (!cmd) st = CL_ERR_NOMEM;
  for (int i = 0; st == CL_OK && i < p->argc; i++) {
    const char *a = p->argv[i];
    int q = !*a || strpbrk(a, " \t\"'$\\*?;&|<>()") != NULL;
    if (i) strcat(cmd, " ");
    if (q) strcat(cmd, "'");
    strcat(cmd, a);
    if (q) strcat(cmd, "'");
  }
  if (st == CL_OK) st = cl__h5_attr_str(g, "command_line", cmd);
  if (st == CL_OK && p->argc > 0) st = cl__h5_attr_strv(g, "argv", (const char *const *)p->argv, p->argc);
  free(cmd);
  if (st == CL_OK && p->has_seed) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp >= 0 ? H5Acreate2(g, "seed", H5T_NATIVE_UINT64, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (a < 0 || H5Awrite(a, H5T_NATIVE_UINT64, &p->seed) < 0) st = CL_ERR_HDF5;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
  }
  if (st == CL_OK && p->config_path) st = cl__h5_attr_str(g, "config_path", p->config_path);
  /* Kernel backend executors get by default (CL_BACKEND_AUTO: $CLEAVE_BACKEND, else
   * oneDNN when built in); commands with --backend also record their choice. */
  if (st == CL_OK) st = cl__h5_attr_str(g, "kernel_backend", cl_backend_name(cl_backend_resolve(CL_BACKEND_AUTO)));
  if (st == CL_OK) st = cl__h5_attr_str(g, "kernel_backend_version", cl_backend_version(CL_BACKEND_AUTO));
  if (st == CL_OK && p->config_text) {
    char hex[65];
    cl_sha256_hex(p->config_text, strlen(p->config_text), hex);
    st = cl__h5_attr_str(g, "config_sha256", hex);
    if (st == CL_OK) st = cl__h5_write_text(g, "config", p->config_text);
  }
  H5Gclose(g);
  if (st == CL_OK) s->prov_written = 1;
  else cl_log_error("store: writing provenance to '%s' failed", s->path);
  return st;
}

cl_status cl_store_write_model_provenance(cl_store *s, const char *path) {
  if (!s || !path) return CL_ERR_INVALID;
  if (!s->prov_written) {
    cl_log_error("store: model provenance of '%s' written before cl_store_write_provenance", s->path);
    return CL_ERR_INVALID;
  }
  int64_t bytes = 0;
  char hex[65];
  CL_TRY(hash_file(path, &bytes, hex));
  hid_t g = H5Gopen2(s->file, s->prov_group, H5P_DEFAULT);
  if (g < 0) return CL_ERR_HDF5;
  cl_status st = cl__h5_attr_str(g, "model_path", path);
  if (st == CL_OK) st = cl__h5_attr_i64(g, "model_bytes", bytes);
  if (st == CL_OK) st = cl__h5_attr_str(g, "model_sha256", hex);
  H5Gclose(g);
  if (st != CL_OK) cl_log_error("store: writing model provenance to '%s' failed", s->path);
  return st;
}

/* Comma-separated %.9g list of v[0..n) (caller frees). */
static char *list_text(int n, const double *v) {
  size_t cap = (size_t)n * 24 + 1, len = 0;
  char *t = malloc(cap);
  if (!t) return NULL;
  t[0] = 0;
  for (int i = 0; i < n; i++) len += (size_t)snprintf(t + len, cap - len, "%s%.9g", i ? "," : "", v[i]);
  return t;
}

cl_status cl_store_write_clock_provenance(cl_store *s, int n, const double *offset, const double *rtt,
                                         const double *applied, int rounds) {
  if (!s || n < 1 || !offset || !rtt || !applied) return CL_ERR_INVALID;
  double bound = 0.0;
  for (int i = 0; i < n; i++)
    if (0.5 * rtt[i] > bound) bound = 0.5 * rtt[i];
  char *to = list_text(n, offset), *tr = list_text(n, rtt), *ta = list_text(n, applied);
  hid_t g = to && tr && ta ? H5Gopen2(s->file, s->prov_group, H5P_DEFAULT) : -1;
  cl_status st = !to || !tr || !ta ? CL_ERR_NOMEM : g < 0 ? CL_ERR_HDF5 : CL_OK;
  if (st == CL_OK) st = cl__h5_attr_str(g, "clock_sync", "ping-pong to rank 0, min-RTT round (Cristian)");
  if (st == CL_OK) st = cl__h5_attr_i64(g, "clock_rounds", rounds);
  if (st == CL_OK) st = cl__h5_attr_str(g, "clock_offsets_s", to);
  if (st == CL_OK) st = cl__h5_attr_str(g, "clock_rtt_s", tr);
  if (st == CL_OK) st = cl__h5_attr_str(g, "clock_applied_s", ta);
  if (st == CL_OK) st = cl__h5_attr_f64(g, "clock_offset_bound_s", bound);
  if (g >= 0) H5Gclose(g);
  free(to);
  free(tr);
  free(ta);
  if (st != CL_OK) cl_log_error("store: writing clock provenance to '%s' failed", s->path);
  return st;
}
