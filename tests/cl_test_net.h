/* Link descriptors for the network-model tests (tests/test_netmodel.c,
 * tests/test_timeline.c). Header-only, like cl_test.h. */
#ifndef CL_TEST_NET_H
#define CL_TEST_NET_H

#include <string.h>

#include "cleave/netmodel.h"

/** A link src -> dst with latency @p lat (s) and bandwidth @p bw (B/s) on @p medium
 *  (-1: not shared), no trace, no jitter. */
static inline cl_link_desc cl_test_link(int src, int dst, double lat, double bw, int medium) {
  cl_link_desc d;
  memset(&d, 0, sizeof d);
  d.src = src;
  d.dst = dst;
  d.latency = lat;
  d.bandwidth = bw;
  d.medium = medium;
  return d;
}

#endif
