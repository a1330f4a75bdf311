/* cleave report FILE.h5 [--table PATH] [--format table|csv] [--head N]
 *
 * Without --table: the provenance summary, every table with its record count and
 * fields (type, unit, dictionary), and a per-layer summary for every table that has
 * a layer column ("layer_name", "layer" or "name") and a time column (first float
 * column whose unit is s/ms/us/ns or whose name contains "time" or ends in
 * _s/_ms/_us/_ns). With --table: that table's rows, dictionary ids resolved. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/records.h"
#include "cleave/store.h"
#include "cli.h"
#include "commands.h"

enum { BLOCK = 4096, MAX_GROUPS = 4096 };

static void usage(FILE *f) {
  fprintf(f,
          "usage: cleave report FILE.h5 [--table PATH] [--format table|csv] [--head N]\n"
          "\n"
          "Summarise a cleave HDF5 file (per-rank, merged, or left by a killed writer):\n"
          "provenance, every table (path, records, fields with types and units) and a\n"
          "per-layer summary (n, mean, median, min, max of the time column) of tables with\n"
          "a layer column (layer_name / layer / name) and a time column (unit s/ms/us/ns,\n"
          "or a name containing 'time' or ending in _s/_ms/_us/_ns).\n"
          "\n"
          "options:\n"
          "  --table PATH          print the rows of one table instead (ids resolved)\n"
          "  --format table|csv    output format (default table)\n"
          "  --head N              at most N rows with --table (default: 50 for table, all for csv)\n"
          "  --help                this text\n");
}

/* Column-major view of a table read into natural-aligned records. */
typedef struct rowbuf {
  const cl_table_info *ti;
  cl_field *f;
  size_t rec;
  char ***dict; /* per field: id -> name (NULL if not a dictionary field) */
  int32_t *dict_n;
} rowbuf;

static void rowbuf_free(rowbuf *b) {
  for (int i = 0; b->dict && i < b->ti->n_fields; i++) {
    for (int32_t k = 0; b->dict[i] && k < b->dict_n[i]; k++) free(b->dict[i][k]);
    free(b->dict[i]);
  }
  free(b->dict);
  free(b->dict_n);
  free(b->f);
}

/* Load dictionary @p path as an id -> string array. */
static int load_dict(cl_reader *r, const char *path, char ***out, int32_t *n) {
  const cl_table_info *di = cl_reader_find(r, path);
  *out = NULL;
  *n = 0;
  if (!di) return 0;
  typedef cl_rec_dict drec; /* cleave/records.h */
  cl_table_desc dd = CL_REC_DICTS;
  dd.path = path;
  size_t cnt = (size_t)di->n_records;
  drec *rows = malloc((cnt ? cnt : 1) * sizeof *rows);
  char **v = calloc(cnt ? cnt : 1, sizeof *v);
  if (!rows || !v || cl_reader_read(r, path, &dd, 0, cnt, rows) != CL_OK) {
    free(rows);
    free(v);
    return -1;
  }
  for (size_t i = 0; i < cnt; i++) {
    int32_t id = rows[i].id;
    if (id >= 0 && (size_t)id < cnt && !v[id]) {
      rows[i].name[CL_DICT_MAXLEN] = '\0';
      size_t l = strlen(rows[i].name) + 1;
      v[id] = malloc(l);
      if (v[id]) memcpy(v[id], rows[i].name, l);
    }
  }
  free(rows);
  *out = v;
  *n = (int32_t)cnt;
  return 0;
}

static int rowbuf_init(rowbuf *b, cl_reader *r, const cl_table_info *ti) {
  memset(b, 0, sizeof *b);
  b->ti = ti;
  b->f = calloc((size_t)ti->n_fields, sizeof *b->f);
  b->dict = calloc((size_t)ti->n_fields, sizeof *b->dict);
  b->dict_n = calloc((size_t)ti->n_fields, sizeof *b->dict_n);
  if (!b->f || !b->dict || !b->dict_n) return -1;
  size_t off = 0;
  for (int i = 0; i < ti->n_fields; i++) {
    const cl_field_info *fi = &ti->fields[i];
    size_t al = fi->type == CL_F_STRING ? 1 : fi->size;
    if (fi->type == CL_F_COUNT) continue; /* not printable: skipped */
    off = (off + al - 1) / al * al;
    b->f[i] = (cl_field){fi->name, fi->type, off, fi->size, fi->unit, fi->desc, NULL};
    off += fi->size;
    if (*fi->dict && load_dict(r, fi->dict, &b->dict[i], &b->dict_n[i]) != 0) return -1;
  }
  b->rec = (off + 7) / 8 * 8;
  if (b->rec == 0) b->rec = 8;
  return 0;
}

/* Format field i of record p into out. */
static void fmt_field(const rowbuf *b, int i, const unsigned char *p, char *out, size_t n) {
  const cl_field *f = &b->f[i];
  const unsigned char *v = p + f->offset;
  int8_t i8;
  uint8_t u8;
  int32_t i32;
  uint32_t u32;
  int64_t i64;
  uint64_t u64;
  float f32;
  double f64;
  switch (f->type) {
    case CL_F_INT8: memcpy(&i8, v, 1); snprintf(out, n, "%d", i8); break;
    case CL_F_UINT8: memcpy(&u8, v, 1); snprintf(out, n, "%u", u8); break;
    case CL_F_INT32:
      memcpy(&i32, v, 4);
      if (b->dict[i] && i32 >= 0 && i32 < b->dict_n[i] && b->dict[i][i32])
        snprintf(out, n, "%s", b->dict[i][i32]);
      else
        snprintf(out, n, "%" PRId32, i32);
      break;
    case CL_F_UINT32: memcpy(&u32, v, 4); snprintf(out, n, "%" PRIu32, u32); break;
    case CL_F_INT64: memcpy(&i64, v, 8); snprintf(out, n, "%" PRId64, i64); break;
    case CL_F_UINT64: memcpy(&u64, v, 8); snprintf(out, n, "%" PRIu64, u64); break;
    case CL_F_FLOAT32: memcpy(&f32, v, 4); snprintf(out, n, "%.7g", (double)f32); break;
    case CL_F_FLOAT64: memcpy(&f64, v, 8); snprintf(out, n, "%.10g", f64); break;
    case CL_F_STRING: snprintf(out, n, "%.*s", (int)f->size, (const char *)v); break;
    default: snprintf(out, n, "?");
  }
}

static void csv_cell(const char *s) {
  if (!strpbrk(s, ",\"\n")) {
    fputs(s, stdout);
    return;
  }
  putchar('"');
  for (; *s; s++) {
    if (*s == '"') putchar('"');
    putchar(*s);
  }
  putchar('"');
}

static int print_rows(cl_reader *r, const cl_table_info *ti, int csv, long head) {
  rowbuf b;
  unsigned char *buf = NULL;
  int rc = 1;
  if (rowbuf_init(&b, r, ti) != 0 || !(buf = malloc(BLOCK * b.rec))) goto done;
  int nf = ti->n_fields;
  size_t *w = calloc((size_t)nf, sizeof *w);
  if (!w) goto done;
  uint64_t n = ti->n_records;
  if (head >= 0 && (uint64_t)head < n) n = (uint64_t)head;
  char cell[512];
  if (!csv) { /* column widths from the header and the printed rows */
    for (int i = 0; i < nf; i++) {
      w[i] = strlen(ti->fields[i].name);
      if (strlen(ti->fields[i].unit) + 2 > w[i]) w[i] = strlen(ti->fields[i].unit) + 2;
    }
    for (uint64_t s0 = 0; s0 < n; s0 += BLOCK) {
      size_t cnt = n - s0 < BLOCK ? (size_t)(n - s0) : BLOCK;
      if (cl_reader_read(r, ti->path, &(cl_table_desc){ti->path, b.rec, b.f, nf, "", 0}, s0, cnt, buf) != CL_OK) {
        free(w);
        goto done;
      }
      for (size_t k = 0; k < cnt; k++)
        for (int i = 0; i < nf; i++) {
          fmt_field(&b, i, buf + k * b.rec, cell, sizeof cell);
          if (strlen(cell) > w[i]) w[i] = strlen(cell);
        }
    }
  }
  for (int i = 0; i < nf; i++) {
    if (csv) {
      if (i) putchar(',');
      csv_cell(ti->fields[i].name);
    } else {
      printf("%s%-*s", i ? "  " : "", (int)w[i], ti->fields[i].name);
    }
  }
  putchar('\n');
  if (!csv) {
    for (int i = 0; i < nf; i++) {
      snprintf(cell, sizeof cell, "[%s]", ti->fields[i].unit);
      printf("%s%-*s", i ? "  " : "", (int)w[i], *ti->fields[i].unit ? cell : "");
    }
    putchar('\n');
  }
  for (uint64_t s0 = 0; s0 < n; s0 += BLOCK) {
    size_t cnt = n - s0 < BLOCK ? (size_t)(n - s0) : BLOCK;
    if (cl_reader_read(r, ti->path, &(cl_table_desc){ti->path, b.rec, b.f, nf, "", 0}, s0, cnt, buf) != CL_OK) {
      free(w);
      goto done;
    }
    for (size_t k = 0; k < cnt; k++) {
      for (int i = 0; i < nf; i++) {
        fmt_field(&b, i, buf + k * b.rec, cell, sizeof cell);
        if (csv) {
          if (i) putchar(',');
          csv_cell(cell);
        } else {
          printf("%s%-*s", i ? "  " : "", (int)w[i], cell);
        }
      }
      putchar('\n');
    }
  }
  if (n < ti->n_records)
    fprintf(csv ? stderr : stdout, "... %" PRIu64 " more rows (use --head)\n", ti->n_records - n);
  free(w);
  rc = 0;
done:
  free(buf);
  rowbuf_free(&b);
  return rc;
}

static void prov_cb(const char *name, const char *value, void *ud) {
  int csv = *(int *)ud;
  if (csv) {
    printf("provenance,");
    csv_cell(name);
    putchar(',');
    csv_cell(value);
    putchar('\n');
  } else {
    size_t l = strlen(value);
    printf("  %-18s %.*s%s\n", name, l > 110 ? 107 : (int)l, value, l > 110 ? "..." : "");
  }
}

/* ---- per-layer summary ---- */

static int is_time_field(const cl_field_info *f) {
  if (f->type != CL_F_FLOAT32 && f->type != CL_F_FLOAT64) return 0;
  const char *u = f->unit;
  if (!strcmp(u, "s") || !strcmp(u, "ms") || !strcmp(u, "us") || !strcmp(u, "ns")) return 1;
  size_t l = strlen(f->name);
  if (strstr(f->name, "time")) return 1;
  return (l > 2 && !strcmp(f->name + l - 2, "_s")) || (l > 3 && (!strcmp(f->name + l - 3, "_ms") ||
                                                                   !strcmp(f->name + l - 3, "_us") ||
                                                                   !strcmp(f->name + l - 3, "_ns")));
}

typedef struct group {
  char key[160];
  double *v;
  size_t n, cap;
} group;

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int layer_summary(cl_reader *r, const cl_table_info *ti, int csv) {
  int key = -1, tf = -1, model = -1;
  static const char *keys[] = {"layer_name", "layer", "name"};
  for (int k = 0; k < 3 && key < 0; k++)
    for (int i = 0; i < ti->n_fields; i++)
      if (!strcmp(ti->fields[i].name, keys[k]) && ti->fields[i].type != CL_F_COUNT &&
          ti->fields[i].type != CL_F_FLOAT32 && ti->fields[i].type != CL_F_FLOAT64)
        key = i;
  /* Summarise a duration: a preferred duration column, else the first time column that
   * is not a timestamp (start, end, ... are points on the clock, not costs). */
  static const char *durations[] = {"duration", "time", "seconds", "median", "cpu_time", "latency"};
  static const char *stamps[] = {"start", "end", "ready", "arrival", "release", "finish", "wall_arrival"};
  for (size_t k = 0; k < sizeof durations / sizeof *durations && tf < 0; k++)
    for (int i = 0; i < ti->n_fields && tf < 0; i++)
      if (!strcmp(ti->fields[i].name, durations[k]) && is_time_field(&ti->fields[i])) tf = i;
  for (int i = 0; i < ti->n_fields && tf < 0; i++) {
    int stamp = 0;
    for (size_t k = 0; k < sizeof stamps / sizeof *stamps; k++) stamp |= !strcmp(ti->fields[i].name, stamps[k]);
    if (!stamp && is_time_field(&ti->fields[i])) tf = i;
  }
  for (int i = 0; i < ti->n_fields; i++)
    if (!strcmp(ti->fields[i].name, "model") && i != key) model = i;
  if (key < 0 || tf < 0 || ti->n_records == 0) return 0;
  rowbuf b;
  group *g = NULL;
  size_t ng = 0;
  unsigned char *buf = NULL;
  int rc = 1;
  if (rowbuf_init(&b, r, ti) != 0 || !(buf = malloc(BLOCK * b.rec)) || !(g = calloc(MAX_GROUPS, sizeof *g)))
    goto done;
  int truncated = 0;
  for (uint64_t s0 = 0; s0 < ti->n_records; s0 += BLOCK) {
    size_t cnt = ti->n_records - s0 < BLOCK ? (size_t)(ti->n_records - s0) : BLOCK;
    if (cl_reader_read(r, ti->path, &(cl_table_desc){ti->path, b.rec, b.f, ti->n_fields, "", 0}, s0, cnt,
                       buf) != CL_OK)
      goto done;
    for (size_t k = 0; k < cnt; k++) {
      const unsigned char *p = buf + k * b.rec;
      char kb[160], mb[80] = "", lb[80], tb[64];
      fmt_field(&b, key, p, lb, sizeof lb);
      if (model >= 0) fmt_field(&b, model, p, mb, sizeof mb);
      snprintf(kb, sizeof kb, "%s%s%s", mb, model >= 0 ? "/" : "", lb);
      fmt_field(&b, tf, p, tb, sizeof tb);
      double t = strtod(tb, NULL);
      size_t gi = 0;
      while (gi < ng && strcmp(g[gi].key, kb)) gi++;
      if (gi == ng) {
        if (ng == MAX_GROUPS) {
          truncated = 1;
          continue;
        }
        snprintf(g[ng++].key, sizeof g->key, "%s", kb);
      }
      if (g[gi].n == g[gi].cap) {
        size_t nc = g[gi].cap ? 2 * g[gi].cap : 8;
        double *nv = realloc(g[gi].v, nc * sizeof *nv);
        if (!nv) goto done;
        g[gi].v = nv;
        g[gi].cap = nc;
      }
      g[gi].v[g[gi].n++] = t;
    }
  }
  const char *unit = ti->fields[tf].unit;
  if (!csv)
    printf("\nper-layer summary of %s: %s [%s] by %s%s\n  %-40s %8s %12s %12s %12s %12s\n", ti->path,
           ti->fields[tf].name, *unit ? unit : "?", model >= 0 ? "model/" : "", ti->fields[key].name,
           "layer", "n", "mean", "median", "min", "max");
  for (size_t i = 0; i < ng; i++) {
    double sum = 0;
    for (size_t k = 0; k < g[i].n; k++) sum += g[i].v[k];
    qsort(g[i].v, g[i].n, sizeof *g[i].v, cmp_d);
    double med = g[i].n % 2 ? g[i].v[g[i].n / 2] : 0.5 * (g[i].v[g[i].n / 2 - 1] + g[i].v[g[i].n / 2]);
    if (csv) {
      printf("summary,%s,", ti->path);
      csv_cell(g[i].key);
      printf(",%s,%zu,%.10g,%.10g,%.10g,%.10g\n", ti->fields[tf].name, g[i].n, sum / (double)g[i].n, med,
             g[i].v[0], g[i].v[g[i].n - 1]);
    } else {
      printf("  %-40s %8zu %12.6g %12.6g %12.6g %12.6g\n", g[i].key, g[i].n, sum / (double)g[i].n, med,
             g[i].v[0], g[i].v[g[i].n - 1]);
    }
  }
  if (truncated) fprintf(stderr, "cleave report: only the first %d layers of %s summarised\n", MAX_GROUPS, ti->path);
  rc = 0;
done:
  for (size_t i = 0; g && i < ng; i++) free(g[i].v);
  free(g);
  free(buf);
  rowbuf_free(&b);
  return rc;
}

int cl__cmd_report(int argc, char **argv) {
  const char *file = NULL, *table = NULL, *format = "table";
  long head = -2;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if ((v = cl__opt(argc, argv, &i, "--table", &missing))) {
      table = v;
    } else if ((v = cl__opt(argc, argv, &i, "--format", &missing))) {
      format = v;
    } else if ((v = cl__opt(argc, argv, &i, "--head", &missing))) {
      if (cl__parse_int("report", "--head", v, 0, 1L << 40, &head)) return 2;
    } else if (missing) {
      return cl__cmd_error(2, "report", "%s needs a value", argv[i]);
    } else if (argv[i][0] == '-') {
      return cl__cmd_error(2, "report", "unknown option '%s' (see cleave report --help)", argv[i]);
    } else if (!file) {
      file = argv[i];
    } else {
      return cl__cmd_error(2, "report", "unexpected argument '%s'", argv[i]);
    }
  }
  if (!file) {
    return cl__cmd_error(2, "report", "missing FILE.h5 (see cleave report --help)");
  }
  int csv = !strcmp(format, "csv");
  if (!csv && strcmp(format, "table")) {
    return cl__cmd_error(2, "report", "--format expects 'table' or 'csv', got '%s'", format);
  }
  cl_reader *r;
  cl_status st = cl_reader_open(file, &r);
  if (st != CL_OK) return st == CL_ERR_NOMEM ? 1 : 2; /* logged: missing, not HDF5 or damaged: bad input */
  int rc = 0;
  if (table) {
    const cl_table_info *ti = cl_reader_find(r, table);
    if (!ti) {
      char names[1024] = "";
      for (int i = 0; i < cl_reader_n_tables(r); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), " %s", cl_reader_table_at(r, i)->path);
      cl__cmd_error(2, "report", "'%s' has no table '%s' (tables:%s)", file, table, names);
      cl_reader_close(r);
      return 2;
    }
    rc = print_rows(r, ti, csv, head == -2 ? (csv ? -1 : 50) : head);
    cl_reader_close(r);
    return rc;
  }
  /* Whether the writer finished (cl_reader_open also warned on stderr if not). */
  int done = cl_reader_complete(r);
  const char *cs = done > 0 ? "yes" : done == 0 ? "no (writer killed, failed or still running)" : "unknown";
  if (csv) {
    printf("section,key,value\n");
    printf("status,complete,%s\n", done > 0 ? "yes" : done == 0 ? "no" : "unknown");
  } else {
    printf("file: %s\ncomplete: %s\n", file, cs);
    if (cl_reader_exists(r, "/merge/sources")) {
      const cl_table_info *si = cl_reader_find(r, "/merge/sources");
      printf("merged from %" PRIu64 " inputs (see --table /merge/sources)\n", si ? si->n_records : 0);
    }
    printf("\nprovenance:\n");
  }
  if (cl_reader_exists(r, "/provenance")) {
    if (cl_reader_attrs(r, "/provenance", prov_cb, &csv) != CL_OK) { /* logged: a damaged input */
      cl_reader_close(r);
      return 2; /* one error line: its tables are not read after that */
    }
  } else if (!csv) {
    printf("  (none: not written by cleave?)\n");
  }
  if (!csv) printf("\ntables:\n");
  for (int t = 0; t < cl_reader_n_tables(r); t++) {
    const cl_table_info *ti = cl_reader_table_at(r, t);
    if (csv) {
      for (int i = 0; i < ti->n_fields; i++) {
        const cl_field_info *f = &ti->fields[i];
        printf("table,%s,%" PRIu64 ",%s,%s,%s,%s,", ti->path, ti->n_records, f->name,
               cl_ftype_name(f->type), f->unit, f->dict);
        csv_cell(f->desc);
        putchar('\n');
      }
      continue;
    }
    printf("  %s  %" PRIu64 " records%s%s\n", ti->path, ti->n_records, *ti->desc ? "  -- " : "", ti->desc);
    for (int i = 0; i < ti->n_fields; i++) {
      const cl_field_info *f = &ti->fields[i];
      char ty[32], un[80];
      if (f->type == CL_F_STRING)
        snprintf(ty, sizeof ty, "char[%zu]", f->size);
      else
        snprintf(ty, sizeof ty, "%s", cl_ftype_name(f->type));
      snprintf(un, sizeof un, "[%s]", f->unit);
      printf("      %-20s %-10s %-10s %s%s%s%s\n", f->name, ty, *f->unit ? un : "", *f->dict ? "-> " : "",
             f->dict, *f->dict ? "  " : "", f->desc);
    }
  }
  for (int t = 0; t < cl_reader_n_tables(r); t++) {
    const cl_table_info *ti = cl_reader_table_at(r, t);
    if (!ti->is_dict && layer_summary(r, ti, csv) != 0) rc = 2; /* logged: a damaged table */
  }
  cl_reader_close(r);
  return rc;
}
