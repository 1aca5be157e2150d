#include "sim/result.h"

namespace sim {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kUnreachable:
      return "unreachable";
    case ErrorKind::kRemote:
      return "remote";
    case ErrorKind::kCancelled:
      return "cancelled";
    case ErrorKind::kInvalid:
      return "invalid";
    case ErrorKind::kIo:
      return "io";
    case ErrorKind::kOverloaded:
      return "overloaded";
  }
  return "?";
}

}  // namespace sim
