/* Shared helpers of the link-model tests (test_netmodel, test_timeline, test_netflow). */
#ifndef CL_NET_TEST_H
#define CL_NET_TEST_H

#include <string.h>

#include "cl_test.h"
#include "cleave/timeline.h"

/* A FIFO link src -> dst (medium -1 = not shared). */
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

/* A model with one link 0 -> 1 and a 2-node timeline on it; returns the link id. */
static inline int cl_test_one_link(double lat, double bw, cl_netmodel **net, cl_timeline **tl) {
  CL_CHECK_OK(cl_netmodel_create(1, net));
  cl_link_desc d = cl_test_link(0, 1, lat, bw, -1);
  int l = -1;
  CL_CHECK_OK(cl_netmodel_add_link(*net, &d, &l));
  CL_CHECK_OK(cl_timeline_create(*net, 2, tl));
  return l;
}

#endif
