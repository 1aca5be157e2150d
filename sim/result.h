// Errors are values. Result<T> holds a T or an Error; check it before use.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "sim/assert.h"

namespace sim {

enum class ErrorKind {
  kTimeout,      // no answer in time; the outcome at the other side is unknown
  kUnreachable,  // the destination refused: it is down (the request surely did not run)
  kRemote,       // the destination ran the request and returned an error
  kCancelled,    // the caller gave up (its task was cancelled)
  kInvalid,      // bad input from the caller
  kIo,           // a simulated disk or storage failure
  kOverloaded,   // a rate or size limit was hit
};

const char* error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind;
  std::string message;

  std::string to_string() const { return std::string(error_kind_name(kind)) + ": " + message; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    SIM_REQUIRE(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    SIM_REQUIRE(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    SIM_REQUIRE(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

  const Error& error() const {
    SIM_REQUIRE(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void>.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    SIM_REQUIRE(!ok_);
    return error_;
  }

 private:
  Error error_{ErrorKind::kInvalid, ""};
  bool ok_ = true;
};

}  // namespace sim
