/* Tiny test harness: typed asserts that print both operands, a pass/fail tally. */
#ifndef CL_TEST_H
#define CL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cl_test_failures = 0;
static int cl_test_checks = 0;

#define CL_CHECK(cond)                                                          \
  do {                                                                          \
    cl_test_checks++;                                                           \
    if (!(cond)) {                                                              \
      cl_test_failures++;                                                       \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
    }                                                                           \
  } while (0)

#define CL_CHECK_INT_EQ(a, b)                                                      \
  do {                                                                             \
    long long cl_a_ = (long long)(a), cl_b_ = (long long)(b);                      \
    cl_test_checks++;                                                              \
    if (cl_a_ != cl_b_) {                                                          \
      cl_test_failures++;                                                          \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
              #a, #b, cl_a_, cl_b_);                                               \
    }                                                                              \
  } while (0)

#define CL_CHECK_STR_EQ(a, b)                                                          \
  do {                                                                                 \
    const char *cl_a_ = (a), *cl_b_ = (b);                                             \
    cl_test_checks++;                                                                  \
    if (!cl_a_ || !cl_b_ || strcmp(cl_a_, cl_b_) != 0) {                               \
      cl_test_failures++;                                                              \
      fprintf(stderr, "%s:%d: %s == %s failed:\n  \"%s\"\n  \"%s\"\n", __FILE__, __LINE__, \
              #a, #b, cl_a_ ? cl_a_ : "(null)", cl_b_ ? cl_b_ : "(null)");             \
    }                                                                                  \
  } while (0)

/* |a-b| <= tol */
#define CL_CHECK_NEAR(a, b, tol)                                                        \
  do {                                                                                  \
    double cl_a_ = (double)(a), cl_b_ = (double)(b), cl_t_ = (double)(tol);             \
    cl_test_checks++;                                                                   \
    if (!(fabs(cl_a_ - cl_b_) <= cl_t_)) {                                              \
      cl_test_failures++;                                                               \
      fprintf(stderr, "%s:%d: %s ~= %s failed: %.9g vs %.9g (tol %.3g)\n", __FILE__,    \
              __LINE__, #a, #b, cl_a_, cl_b_, cl_t_);                                   \
    }                                                                                   \
  } while (0)

#define CL_CHECK_OK(expr)                                                                  \
  do {                                                                                     \
    int cl_s_ = (int)(expr);                                                               \
    cl_test_checks++;                                                                      \
    if (cl_s_ != 0) {                                                                      \
      cl_test_failures++;                                                                  \
      fprintf(stderr, "%s:%d: %s returned %d, expected CL_OK\n", __FILE__, __LINE__, #expr, \
              cl_s_);                                                                      \
    }                                                                                      \
  } while (0)

/* Print the tally and return the process exit code. */
static inline int cl_test_finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, cl_test_checks, cl_test_failures);
  return cl_test_failures ? 1 : 0;
}

#endif
