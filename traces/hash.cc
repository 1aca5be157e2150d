#include "traces/hash.h"

#include <xxhash.h>

#include "sim/events.h"

namespace traces {
namespace {

void put_le(std::string* out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>(v & 0xff));
    v >>= 8;
  }
}

void encode(const sim::TraceEvent& event, std::string* out) {
  out->clear();
  put_le(out, static_cast<std::uint64_t>(event.time), 8);
  put_le(out, static_cast<std::uint32_t>(event.node), 4);
  event.body->AppendToString(out);
}

std::uint64_t hash_encoded(std::uint64_t previous, const std::string& encoded) {
  return XXH3_64bits_withSeed(encoded.data(), encoded.size(), previous);
}

}  // namespace

std::uint64_t chain_hash(std::uint64_t previous, const sim::TraceEvent& event) {
  std::string encoded;
  encode(event, &encoded);
  return hash_encoded(previous, encoded);
}

std::uint64_t RunningHash::update(const sim::TraceEvent& event) {
  encode(event, &scratch_);
  value_ = hash_encoded(value_, scratch_);
  ++count_;
  return value_;
}

}  // namespace traces
