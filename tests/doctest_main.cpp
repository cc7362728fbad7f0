// Conventions of these tests:
// - doctest's Approx of x with .epsilon(e) alone is not a relative tolerance: it accepts |a - x| < e (1 + max(|a|, |x|)),
//   about an absolute e for values far below 1 (a utilisation of 0.003 would pass against anything up to 0.01). Every
//   Approx here carries .scale(0), which leaves the relative tolerance e whatever the size of the values;
//   tests/unit/test_conventions_test.cpp checks it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
