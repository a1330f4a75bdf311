/* Internal layout of cl_timeline, shared by runtime/timeline.c (simulation) and
 * runtime/energy.c (energy accounting). Not part of the public API. */
#ifndef CLEAVE_RUNTIME_TIMELINE_INTERNAL_H
#define CLEAVE_RUNTIME_TIMELINE_INTERNAL_H

#include <stdint.h>

#include "cleave/timeline.h"

struct cl_timeline {
  cl_netmodel *net; /* borrowed */
  int n_nodes;
  int *slots;            /* [n_nodes] */
  cl_node_power *power;  /* [n_nodes] */
  cl_arrival arrival;
  double *release;       /* [n_inf] explicit release times, s */
  int n_inf, cap_inf;
  /* Tasks, parallel arrays [cap]. */
  int n, cap, n_xfer;
  uint8_t *kind;    /* cl_task_kind */
  int32_t *inf;
  int32_t *where;   /* node (compute) or link (transfer) */
  double *dur;      /* s, compute */
  uint64_t *bytes;  /* transfer */
  int64_t *pred_off; /* [cap + 1] CSR into preds */
  int32_t *preds;
  int64_t cap_preds;
  /* Results of the last run. */
  int ran;
  double *r_ready, *r_start, *r_end, *r_tx, *r_lat, *r_energy, *r_erx;
  cl_inference_result *inf_res; /* [n_inf] */
  cl_node_result *node_res;     /* [n_nodes] */
  double makespan, energy_total;
};

/* Energy accounting after a simulation (runtime/energy.c): fills r_energy, r_erx,
 * the energy fields of inf_res and all of node_res, and energy_total. */
cl_status cl__energy(cl_timeline *tl);

/* 64-bit seed -> 32-bit mt19937 seed through splitmix64 (mt19937 reads 32 bits). */
static inline unsigned long cl__seed32(uint64_t seed) {
  uint64_t x = seed + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return (unsigned long)((x ^ (x >> 32)) & 0xffffffffULL);
}

#endif
