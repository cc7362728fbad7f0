#include "kafkasim/sim/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace kafkasim::sim {

namespace {
void default_handler(const std::string& message) {
  std::fputs(message.c_str(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}
AssertHandler g_handler = &default_handler;
}  // namespace

AssertHandler set_assert_handler(AssertHandler handler) {
  AssertHandler previous = g_handler;
  g_handler = handler != nullptr ? handler : &default_handler;
  return previous;
}

void assert_failed(const std::string& message) {
  g_handler(message);
  // A handler must not return; if it does, abort anyway.
  std::abort();
}

std::string format_assert(std::string_view expression, std::string_view operands,
                          const std::source_location& where) {
  std::string out = "kafkasim assertion failed: ";
  out += expression;
  if (!operands.empty()) {
    out += " (";
    out += operands;
    out += ")";
  }
  out += " at ";
  out += where.file_name();
  out += ":";
  out += std::to_string(where.line());
  out += " in ";
  out += where.function_name();
  return out;
}

}  // namespace kafkasim::sim
