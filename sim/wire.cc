#include "sim/wire.h"

#include <bit>

namespace sim {

namespace {
template <typename T>
void put_le(std::string& out, T v) {
  char buf[sizeof(T)];
  for (std::size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(buf, sizeof(T));
}
template <typename T>
T get_le(std::string_view in, std::size_t pos) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<std::uint8_t>(in[pos + i])) << (8 * i);
  }
  return v;
}
}  // namespace

WireWriter& WireWriter::u8(std::uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}

WireWriter& WireWriter::u32(std::uint32_t v) {
  put_le(out_, v);
  return *this;
}

WireWriter& WireWriter::u64(std::uint64_t v) {
  put_le(out_, v);
  return *this;
}

WireWriter& WireWriter::f64(double v) { return u64(std::bit_cast<std::uint64_t>(v)); }

WireWriter& WireWriter::str(std::string_view v) {
  u64(v.size());
  out_.append(v.data(), v.size());
  return *this;
}

WireWriter& WireWriter::opt_str(const std::optional<std::string>& s) {
  boolean(s.has_value());
  if (s) str(*s);
  return *this;
}

WireWriter& WireWriter::opt_time(const std::optional<Time>& t) {
  boolean(t.has_value());
  return i64(t.value_or(0));
}

WireWriter& WireWriter::pairs(const std::vector<std::pair<std::string, std::string>>& list) {
  u64(list.size());
  for (const auto& [a, b] : list) str(a).str(b);
  return *this;
}

bool WireReader::need(std::size_t n) {
  if (!ok_ || in_.size() - pos_ < n) {
    ok_ = false;
    return false;
  }
  return true;
}

std::uint8_t WireReader::u8() {
  if (!need(1)) return 0;
  return static_cast<std::uint8_t>(in_[pos_++]);
}

std::uint32_t WireReader::u32() {
  if (!need(4)) return 0;
  const auto v = get_le<std::uint32_t>(in_, pos_);
  pos_ += 4;
  return v;
}

std::uint64_t WireReader::u64() {
  if (!need(8)) return 0;
  const auto v = get_le<std::uint64_t>(in_, pos_);
  pos_ += 8;
  return v;
}

double WireReader::f64() { return std::bit_cast<double>(u64()); }

std::string WireReader::str() {
  const std::uint64_t n = u64();
  if (!need(n)) return {};
  std::string s(in_.substr(pos_, n));
  pos_ += n;
  return s;
}

std::optional<std::string> WireReader::opt_str() {
  if (!boolean()) return std::nullopt;
  return str();
}

std::optional<Time> WireReader::opt_time() {
  const bool has = boolean();
  const Time t = i64();
  if (!has) return std::nullopt;
  return t;
}

std::vector<std::pair<std::string, std::string>> WireReader::pairs() {
  const std::uint64_t n = u64();
  std::vector<std::pair<std::string, std::string>> out;
  // Each pair takes at least 16 bytes: a hostile count cannot make us allocate beyond the input.
  if (!need(0) || n > (in_.size() - pos_) / 16) {
    ok_ = false;
    return out;
  }
  out.reserve(n);
  for (std::uint64_t i = 0; i < n && ok_; ++i) {
    std::string a = str();
    std::string b = str();
    out.emplace_back(std::move(a), std::move(b));
  }
  return out;
}

}  // namespace sim
