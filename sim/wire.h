// The one binary encoder of edgesim: every message that crosses the simulated network (service
// RPCs, HTTP between nodes, Durable Object requests) is written with a WireWriter and read with a
// WireReader. Fixed-width little-endian integers, length-prefixed strings. Simulated peers run
// the same build, so there is no versioning; a reader still checks every bound, because the
// network may hand a handler any bytes (a message truncated by a bug must fail, not read past
// its end).
//
//   std::string m = sim::WireWriter().str(key).u64(epoch).take();
//   sim::WireReader r(m);
//   std::string key = r.str();
//   std::uint64_t epoch = r.u64();
//   if (!r.done()) return malformed();
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/time.h"

namespace sim {

class WireWriter {
 public:
  WireWriter& u8(std::uint8_t v);
  WireWriter& boolean(bool v) { return u8(v ? 1 : 0); }
  WireWriter& u32(std::uint32_t v);
  WireWriter& u64(std::uint64_t v);
  WireWriter& i64(std::int64_t v) { return u64(static_cast<std::uint64_t>(v)); }
  WireWriter& f64(double v);
  WireWriter& str(std::string_view v);
  WireWriter& opt_str(const std::optional<std::string>& s);
  WireWriter& opt_time(const std::optional<Time>& t);
  // A list of (name, value) pairs, e.g. HTTP headers.
  WireWriter& pairs(const std::vector<std::pair<std::string, std::string>>& list);
  std::string take() { return std::move(out_); }
  std::size_t size() const { return out_.size(); }

 private:
  std::string out_;
};

// Reads what a WireWriter wrote. Reading past the end yields zeros (or empty values) and marks
// the reader failed; check ok() (or done(), which also wants every byte read) once at the end.
class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  std::uint8_t u8();
  bool boolean() { return u8() != 0; }
  std::uint32_t u32();
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  std::string str();
  std::optional<std::string> opt_str();
  std::optional<Time> opt_time();
  std::vector<std::pair<std::string, std::string>> pairs();
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  bool need(std::size_t n);
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace sim
