#include "traces/reader.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "sim/assert.h"
#include "sim/events.h"

namespace traces {
namespace {

constexpr std::size_t kReadChunkBytes = 64 * 1024;

sim::Error invalid(std::string message) {
  return sim::Error{sim::ErrorKind::kInvalid, std::move(message)};
}

}  // namespace

// A stream of bytes. read() returns up to n bytes, and 0 only at the end.
class TraceReader::Source {
 public:
  virtual ~Source() = default;
  virtual sim::Result<std::size_t> read(char* buf, std::size_t n) = 0;
};

class TraceReader::FdSource : public Source {
 public:
  FdSource(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~FdSource() override { ::close(fd_); }

  sim::Result<std::size_t> read(char* buf, std::size_t n) override {
    while (true) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) {
        return sim::Error{sim::ErrorKind::kIo, name_ + ": cannot read: " + std::strerror(errno)};
      }
    }
  }

 private:
  std::string name_;
  int fd_;
};

class TraceReader::MemorySource : public Source {
 public:
  explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}

  sim::Result<std::size_t> read(char* buf, std::size_t n) override {
    std::size_t take = std::min(n, bytes_.size() - pos_);
    std::memcpy(buf, bytes_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  std::string bytes_;
  std::size_t pos_ = 0;
};

// Decompresses a zstd stream read from another source.
class TraceReader::ZstdSource : public Source {
 public:
  ZstdSource(std::string name, std::unique_ptr<Source> inner)
      : name_(std::move(name)), inner_(std::move(inner)), ctx_(ZSTD_createDCtx()) {
    in_.resize(ZSTD_DStreamInSize());
  }
  ~ZstdSource() override { ZSTD_freeDCtx(ctx_); }

  sim::Result<std::size_t> read(char* buf, std::size_t n) override {
    if (ctx_ == nullptr) return invalid(name_ + ": cannot set up zstd decompression");
    while (true) {
      if (in_pos_ == in_size_ && !inner_done_) {
        auto got = inner_->read(in_.data(), in_.size());
        if (!got.ok()) return got.error();
        in_size_ = *got;
        in_pos_ = 0;
        inner_done_ = in_size_ == 0;
      }
      bool no_input = in_pos_ == in_size_;
      if (no_input && !output_pending_) {
        if (frame_open_) return invalid(name_ + ": the zstd stream is truncated");
        return std::size_t{0};
      }
      ZSTD_inBuffer in{in_.data(), in_size_, in_pos_};
      ZSTD_outBuffer out{buf, n, 0};
      std::size_t ret = ZSTD_decompressStream(ctx_, &out, &in);
      if (ZSTD_isError(ret)) {
        return invalid(name_ + ": the zstd stream is corrupted (" + ZSTD_getErrorName(ret) + ")");
      }
      bool progressed = in.pos != in_pos_ || out.pos > 0;
      in_pos_ = in.pos;
      output_pending_ = out.pos == out.size;
      frame_open_ = ret != 0;
      if (out.pos > 0) return out.pos;
      // Guards against a decoder that would neither consume nor produce: never loop forever.
      if (!progressed && !no_input) return invalid(name_ + ": the zstd stream is corrupted");
    }
  }

 private:
  std::string name_;
  std::unique_ptr<Source> inner_;
  ZSTD_DCtx* ctx_;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::size_t in_size_ = 0;
  bool inner_done_ = false;
  bool frame_open_ = false;
  bool output_pending_ = false;
};

TraceReader::TraceReader(std::string name, std::unique_ptr<Source> source)
    : name_(std::move(name)), source_(std::move(source)) {}

TraceReader::~TraceReader() = default;

sim::Result<std::unique_ptr<TraceReader>> TraceReader::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return sim::Error{sim::ErrorKind::kIo, path + ": cannot open: " + std::strerror(errno)};
  }
  return start(
      std::unique_ptr<TraceReader>(new TraceReader(path, std::make_unique<FdSource>(path, fd))));
}

sim::Result<std::unique_ptr<TraceReader>> TraceReader::from_bytes(std::string bytes,
                                                                  std::string name) {
  return start(std::unique_ptr<TraceReader>(
      new TraceReader(std::move(name), std::make_unique<MemorySource>(std::move(bytes)))));
}

sim::Result<std::unique_ptr<TraceReader>> TraceReader::start(std::unique_ptr<TraceReader> r) {
  // The magic is read straight from the source: what follows it may be a zstd stream.
  char magic[kMagicBytes];
  std::size_t got = 0;
  while (got < kMagicBytes) {
    auto n = r->source_->read(magic + got, kMagicBytes - got);
    if (!n.ok()) return n.error();
    if (*n == 0) break;
    got += *n;
  }
  std::string_view seen(magic, got);
  bool prefix = kMagicPlain.starts_with(seen) || kMagicZstd.starts_with(seen);
  if (got < kMagicBytes && prefix) {
    return r->corrupt(got == 0 ? "empty file (not an edgesim trace)"
                               : "truncated at byte " + std::to_string(got) + " inside the magic");
  }
  if (seen == kMagicZstd) {
    r->compression_ = Compression::kZstd;
    r->source_ = std::make_unique<ZstdSource>(r->name_, std::move(r->source_));
  } else if (seen != kMagicPlain) {
    return r->corrupt("bad magic (not an edgesim trace)");
  }
  r->offset_ = kMagicBytes;

  auto read = r->read_record(std::nullopt);
  if (!read.ok()) return read.error();
  if (!*read) return r->corrupt("missing header: the file ends at " + r->at_byte(r->offset_));
  if (!r->record_.has_header()) {
    return r->corrupt("record at " + r->at_byte(r->record_offset_) +
                      ": expected the header first: the file is corrupted");
  }
  r->header_ = std::move(*r->record_.mutable_header());
  r->header_hash_ = XXH3_64bits(r->payload_.data(), r->payload_.size());
  if (r->header_.format_version() != kFormatVersion) {
    return r->corrupt("unsupported trace format version " +
                      std::to_string(r->header_.format_version()) + " (this build reads " +
                      std::to_string(kFormatVersion) + ")");
  }
  return r;
}

sim::Result<const RecordedEvent*> TraceReader::next() {
  if (error_) return *error_;
  if (footer_) return static_cast<const RecordedEvent*>(nullptr);
  std::uint64_t index = hash_.count();
  auto read = read_record(index);
  if (!read.ok()) return read.error();
  if (!*read) {
    return fail(corrupt("missing footer (the run did not finish): the file ends at " +
                        at_byte(offset_) + " after " + std::to_string(index) + " events"));
  }
  if (record_.has_header()) {
    return fail(corrupt("record at " + at_byte(record_offset_) +
                        ": a second header: the file is corrupted"));
  }
  if (record_.has_footer()) {
    if (sim::Status s = check_footer(record_offset_); !s.ok()) return fail(s.error());
    return static_cast<const RecordedEvent*>(nullptr);
  }
  const edgesim::trace::Event& e = record_.event();
  event_.index = index;
  event_.time = e.time_ns();
  event_.node = e.node();
  event_.body.CopyFrom(e.body());
  event_.hash = e.hash();
  if (event_.body.kind_case() == sim::ev::Body::KIND_NOT_SET ||
      sim::event_kind(event_.body).empty()) {
    return fail(corrupt("event #" + std::to_string(index) + " at " + at_byte(record_offset_) +
                        ": no event kind this build knows (a newer edgesim wrote it, or the file "
                        "is corrupted)"));
  }
  std::uint64_t recomputed = hash_.update(event_.view());
  if (recomputed != e.hash()) {
    return fail(corrupt("event #" + std::to_string(index) + " at " + at_byte(record_offset_) +
                        ": hash mismatch (file says " + format_hash(e.hash()) + ", recomputed " +
                        format_hash(recomputed) + "): the file is corrupted"));
  }
  return static_cast<const RecordedEvent*>(&event_);
}

const Footer& TraceReader::footer() const {
  SIM_REQUIRE(footer_.has_value());
  return *footer_;
}

sim::Status TraceReader::check_footer(std::uint64_t record_offset) {
  const Footer& f = record_.footer();
  std::string at = "footer at " + at_byte(record_offset);
  if (f.event_count() != hash_.count()) {
    return corrupt(at + " says " + std::to_string(f.event_count()) +
                   " events, but the file holds " + std::to_string(hash_.count()) +
                   ": the file is corrupted");
  }
  if (f.final_hash() != hash_.value()) {
    return corrupt(at + ": final hash " + format_hash(f.final_hash()) +
                   " does not match the events (recomputed " + format_hash(hash_.value()) +
                   "): the file is corrupted");
  }
  if (f.header_hash() != header_hash_) {
    return corrupt(at + ": the header was changed (footer says header hash " +
                   format_hash(f.header_hash()) + ", recomputed " + format_hash(header_hash_) +
                   "): the file is corrupted");
  }
  if (f.footer_hash() != footer_hash(f)) {
    return corrupt(at + ": the verdict, properties or stats were changed (footer hash " +
                   format_hash(f.footer_hash()) + ", recomputed " + format_hash(footer_hash(f)) +
                   "): the file is corrupted");
  }
  std::uint64_t end = offset_;
  auto more = get_byte();
  if (!more.ok()) return more.error();
  if (*more >= 0) {
    return corrupt("trailing data at " + at_byte(end) + " after the footer: the file is corrupted");
  }
  footer_ = f;
  return sim::Status::Ok();
}

sim::Result<bool> TraceReader::read_record(std::optional<std::uint64_t> event_index) {
  // Built only for an error message: reading stays allocation-free per event.
  auto where = [&]() -> std::string {
    if (!event_index) return "the header";
    return "event #" + std::to_string(*event_index) + " or the footer";
  };
  record_offset_ = offset_;
  std::uint64_t size = 0;
  for (int i = 0;; ++i) {
    auto b = get_byte();
    if (!b.ok()) return fail(b.error());
    if (*b < 0) {
      if (i == 0) return false;
      return fail(corrupt("truncated at " + at_byte(offset_) + " inside the length of " + where()));
    }
    // Five varint bytes already reach 2^35, far beyond kRecordBytesMax.
    if (i == 5) {
      return fail(corrupt("record at " + at_byte(record_offset_) +
                          ": bad record length: the file is corrupted"));
    }
    size |= static_cast<std::uint64_t>(*b & 0x7f) << (7 * i);
    if ((*b & 0x80) == 0) break;
  }
  if (size > kRecordBytesMax) {
    return fail(corrupt("record at " + at_byte(record_offset_) + " claims " + std::to_string(size) +
                        " bytes, more than the " + std::to_string(kRecordBytesMax >> 20) +
                        " MiB a record may hold: the file is corrupted"));
  }
  payload_.clear();
  auto got = read_bytes(&payload_, size);
  if (!got.ok()) return fail(got.error());
  if (*got < size) {
    return fail(corrupt("truncated at " + at_byte(offset_) + " inside " + where() +
                        " (record claims " + std::to_string(size) + " bytes, " +
                        std::to_string(*got) + " left)"));
  }
  if (!record_.ParseFromString(payload_)) {
    return fail(corrupt("record at " + at_byte(record_offset_) + " (" + where() +
                        "): not a valid protobuf record: the file is corrupted"));
  }
  if (record_.content_case() == edgesim::trace::Record::CONTENT_NOT_SET) {
    return fail(corrupt("record at " + at_byte(record_offset_) + " (" + where() +
                        "): empty record: the file is corrupted"));
  }
  return true;
}

sim::Result<bool> TraceReader::refill() {
  if (source_done_) return false;
  buffer_.resize(kReadChunkBytes);
  pos_ = 0;
  auto n = source_->read(buffer_.data(), buffer_.size());
  if (!n.ok()) {
    buffer_.clear();
    return n.error();
  }
  buffer_.resize(*n);
  if (*n == 0) source_done_ = true;
  return *n > 0;
}

sim::Result<std::size_t> TraceReader::read_bytes(std::string* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    if (pos_ == buffer_.size()) {
      auto more = refill();
      if (!more.ok()) return more.error();
      if (!*more) break;
    }
    std::size_t take = std::min(n - got, buffer_.size() - pos_);
    out->append(buffer_, pos_, take);
    pos_ += take;
    offset_ += take;
    got += take;
  }
  return got;
}

sim::Result<int> TraceReader::get_byte() {
  if (pos_ == buffer_.size()) {
    auto more = refill();
    if (!more.ok()) return more.error();
    if (!*more) return -1;
  }
  ++offset_;
  return static_cast<unsigned char>(buffer_[pos_++]);
}

sim::Error TraceReader::corrupt(const std::string& message) const {
  return invalid(name_ + ": " + message);
}

sim::Error TraceReader::fail(sim::Error error) {
  if (!error_) error_ = std::move(error);
  return *error_;
}

std::string TraceReader::at_byte(std::uint64_t offset) const {
  std::string out = "byte " + std::to_string(offset);
  if (compression_ == Compression::kZstd) out += " of the decompressed stream";
  return out;
}

static sim::Result<Trace> read_trace_from(sim::Result<std::unique_ptr<TraceReader>> opened) {
  if (!opened.ok()) return opened.error();
  TraceReader& reader = **opened;
  Trace trace;
  trace.header = reader.header();
  while (true) {
    auto e = reader.next();
    if (!e.ok()) return e.error();
    if (*e == nullptr) break;
    trace.events.push_back(**e);
  }
  trace.footer = reader.footer();
  return trace;
}

sim::Result<Trace> read_trace(const std::string& path) {
  return read_trace_from(TraceReader::open(path));
}

sim::Result<Trace> read_trace_bytes(std::string bytes, std::string name) {
  return read_trace_from(TraceReader::from_bytes(std::move(bytes), std::move(name)));
}

std::uint64_t footer_hash(const Footer& footer) {
  Footer copy = footer;
  copy.clear_footer_hash();
  std::string bytes;
  google::protobuf::io::StringOutputStream out(&bytes);
  {
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  return XXH3_64bits(bytes.data(), bytes.size());
}

NodeNames node_names(const Header& header) {
  NodeNames names;
  for (const TraceNode& n : header.nodes()) names[n.id()] = n.name();
  return names;
}

}  // namespace traces
