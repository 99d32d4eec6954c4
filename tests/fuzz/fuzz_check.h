// What the fuzz targets share: FUZZ_CHECK, an invariant that must hold for every input. A broken
// one aborts with the condition and where it is, which libFuzzer reports as a crash (and saves the
// input as crash-<sha1>, to become a regression test).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)
