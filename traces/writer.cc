#include "traces/writer.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

namespace traces {
namespace {

sim::Error io_error(const std::string& file, const std::string& what, int err) {
  return sim::Error{sim::ErrorKind::kIo, file + ": " + what + ": " + std::strerror(err)};
}

void append_varint(std::uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Appends the length-prefixed record. Returns the record's size (without the prefix), or 0 when
// it is larger than kRecordBytesMax (nothing is appended then).
std::size_t append_record(const edgesim::trace::Record& record, std::string* out) {
  std::size_t size = record.ByteSizeLong();
  if (size > kRecordBytesMax) return 0;
  append_varint(size, out);
  std::size_t start = out->size();
  out->resize(start + size);
  google::protobuf::io::ArrayOutputStream array(out->data() + start, static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&array);
  coded.SetSerializationDeterministic(true);
  record.SerializeWithCachedSizes(&coded);
  return size;
}

std::string directory_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string make_temp_path(const std::string& path) {
  // The sequence number keeps two writers of one process apart; the pid, two processes. The
  // name is predictable, so it is created with O_EXCL | O_NOFOLLOW (a planted file or link is
  // never written through; open() then tries the next number).
  static std::atomic<std::uint64_t> sequence{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(sequence++);
}

// The temp files of the writers still open, removed if SIGINT or SIGTERM ends the process (an
// interrupted run leaves nothing behind). The handler only reads the slots and calls unlink(),
// which is async-signal-safe.
constexpr std::size_t kLiveSlots = 64;
std::array<std::atomic<const char*>, kLiveSlots> live_temp_files{};

extern "C" void remove_temp_files_and_die(int sig) {
  for (auto& slot : live_temp_files) {
    if (const char* p = slot.load(); p != nullptr) ::unlink(p);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_signal_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction old {};
      // A handler the embedding program installed stays in charge.
      if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction sa {};
        sa.sa_handler = remove_temp_files_and_die;
        sigemptyset(&sa.sa_mask);
        ::sigaction(sig, &sa, nullptr);
      }
    }
  });
}

void register_temp_file(const char* path) {
  for (auto& slot : live_temp_files) {
    const char* expected = nullptr;
    if (slot.compare_exchange_strong(expected, path)) return;
  }
}

void unregister_temp_file(const char* path) {
  for (auto& slot : live_temp_files) {
    const char* expected = path;
    if (slot.compare_exchange_strong(expected, nullptr)) return;
  }
}

// A trace replaces only a regular file, in a directory that exists: checked before the run, so a
// device, a directory or a link at the path is refused at once (a rename would replace it).
sim::Status check_target(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return sim::Error{sim::ErrorKind::kInvalid, path + ": is a directory, not a trace file"};
    }
    if (!S_ISREG(st.st_mode)) {
      return sim::Error{sim::ErrorKind::kInvalid,
                        path +
                            ": exists and is not a regular file (a trace replaces only a "
                            "regular file)"};
    }
  } else if (errno != ENOENT) {
    return io_error(path, "cannot inspect", errno);
  }
  const std::string dir = directory_of(path);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return sim::Error{sim::ErrorKind::kInvalid,
                      path + ": the directory " + dir + " does not exist"};
  }
  return sim::Status::Ok();
}

}  // namespace

struct TraceWriter::Zstd {
  ZSTD_CCtx* ctx = nullptr;
  std::string out;
  ~Zstd() { ZSTD_freeCCtx(ctx); }
};

sim::Result<std::unique_ptr<TraceWriter>> TraceWriter::open(const std::string& path, Header header,
                                                            WriterOptions options) {
  if (path.empty()) return sim::Error{sim::ErrorKind::kInvalid, "trace path is empty"};
  if (sim::Status s = check_target(path); !s.ok()) return s.error();
  install_signal_cleanup();
  std::string temp_path;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    temp_path = make_temp_path(path);
    fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) return io_error(path, "cannot create " + temp_path, errno);
  }
  if (fd < 0) return io_error(path, "cannot create a temp file next to it", EEXIST);
  std::unique_ptr<TraceWriter> writer(
      new TraceWriter(path, std::move(temp_path), fd, std::move(options)));
  register_temp_file(writer->temp_path_.c_str());

  if (writer->options_.compression == Compression::kZstd) {
    writer->zstd_ = std::make_unique<Zstd>();
    writer->zstd_->ctx = ZSTD_createCCtx();
    if (writer->zstd_->ctx == nullptr ||
        ZSTD_isError(ZSTD_CCtx_setParameter(writer->zstd_->ctx, ZSTD_c_compressionLevel,
                                            writer->options_.zstd_level)) ||
        // A frame checksum: damage to compressed bytes is reported as such.
        ZSTD_isError(ZSTD_CCtx_setParameter(writer->zstd_->ctx, ZSTD_c_checksumFlag, 1))) {
      writer->abort();
      return sim::Error{sim::ErrorKind::kInvalid, path + ": cannot set up zstd compression"};
    }
    writer->zstd_->out.resize(ZSTD_CStreamOutSize());
  }
  std::string_view magic = writer->zstd_ ? kMagicZstd : kMagicPlain;
  if (sim::Status s = writer->write_all(magic.data(), magic.size()); !s.ok()) {
    writer->abort();
    return s.error();
  }

  header.set_format_version(kFormatVersion);
  edgesim::trace::Record record;
  *record.mutable_header() = std::move(header);
  if (sim::Status s = writer->append(record, "the header"); !s.ok()) {
    writer->abort();
    return s.error();
  }
  // The header hash covers the record's bytes (the buffer's tail), not the length prefix.
  std::size_t size = static_cast<std::size_t>(record.GetCachedSize());
  writer->header_hash_ = XXH3_64bits(writer->buffer_.data() + writer->buffer_.size() - size, size);
  if (sim::Status s = writer->flush(false); !s.ok()) {
    writer->abort();
    return s.error();
  }
  return writer;
}

TraceWriter::TraceWriter(std::string path, std::string temp_path, int fd, WriterOptions options)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd), options_(options) {}

TraceWriter::~TraceWriter() { abort(); }

void TraceWriter::on_event(const sim::TraceEvent& event) {
  if (state_ != State::kOpen || !status_.ok()) return;
  std::uint64_t index = hash_.count();
  std::uint64_t h = hash_.update(event);
  edgesim::trace::Event* e = record_.mutable_event();
  e->set_time_ns(event.time);
  e->set_node(event.node);
  e->mutable_body()->CopyFrom(*event.body);
  e->set_hash(h);
  if (sim::Status s = append(record_, "event #", index); !s.ok()) {
    (void)fail(std::move(s));
    return;
  }
  if (buffer_.size() >= options_.buffer_bytes) {
    if (sim::Status s = flush(false); !s.ok()) (void)fail(std::move(s));
  }
}

sim::Status TraceWriter::finish(Footer footer) {
  if (state_ == State::kFinished) {
    return sim::Error{sim::ErrorKind::kInvalid, path_ + ": the trace was already finished"};
  }
  if (state_ == State::kAborted) {
    return status_.ok() ? sim::Error{sim::ErrorKind::kInvalid, path_ + ": the trace was aborted"}
                        : status_;
  }
  if (!status_.ok()) {
    abort();
    return status_;
  }
  footer.set_event_count(hash_.count());
  footer.set_final_hash(hash_.value());
  footer.set_header_hash(header_hash_);
  footer.set_footer_hash(footer_hash(footer));
  edgesim::trace::Record record;
  *record.mutable_footer() = std::move(footer);
  if (sim::Status s = append(record, "the footer"); !s.ok()) return fail(std::move(s));
  if (sim::Status s = flush(true); !s.ok()) return fail(std::move(s));
  if (options_.sync && ::fsync(fd_) != 0) return fail(io_error(path_, "cannot fsync", errno));
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return fail(io_error(path_, "cannot close", errno));
  if (sim::Status s = check_target(path_); !s.ok()) return fail(std::move(s));
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return fail(io_error(path_, "cannot rename " + temp_path_ + " onto it", errno));
  }
  unregister_temp_file(temp_path_.c_str());
  state_ = State::kFinished;
  if (options_.sync) {
    // Makes the rename durable. The file is complete either way, so a failure here is ignored.
    int dir = ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }
  return sim::Status::Ok();
}

void TraceWriter::abort() {
  if (state_ != State::kOpen) return;
  state_ = State::kAborted;
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  ::unlink(temp_path_.c_str());
  unregister_temp_file(temp_path_.c_str());
  buffer_.clear();
}

sim::Status TraceWriter::fail(sim::Status status) {
  if (status_.ok()) status_ = status;
  abort();
  return status_;
}

sim::Status TraceWriter::append(const edgesim::trace::Record& record, const char* what,
                                std::optional<std::uint64_t> index) {
  if (append_record(record, &buffer_) == 0) {
    std::string name = what;
    if (index) name += std::to_string(*index);
    return sim::Error{sim::ErrorKind::kInvalid,
                      path_ + ": " + name + " is " + std::to_string(record.ByteSizeLong()) +
                          " bytes, more than the " + std::to_string(kRecordBytesMax >> 20) +
                          " MiB a trace record may hold"};
  }
  return sim::Status::Ok();
}

sim::Status TraceWriter::flush(bool end) {
  if (!zstd_) {
    sim::Status s = write_all(buffer_.data(), buffer_.size());
    buffer_.clear();
    return s;
  }
  ZSTD_inBuffer in{buffer_.data(), buffer_.size(), 0};
  ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
  while (true) {
    ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
    std::size_t remaining = ZSTD_compressStream2(zstd_->ctx, &out, &in, mode);
    if (ZSTD_isError(remaining)) {
      return sim::Error{sim::ErrorKind::kIo,
                        path_ + ": zstd compression failed: " + ZSTD_getErrorName(remaining)};
    }
    if (sim::Status s = write_all(zstd_->out.data(), out.pos); !s.ok()) return s;
    bool done = end ? remaining == 0 : in.pos == in.size;
    if (done) break;
  }
  buffer_.clear();
  return sim::Status::Ok();
}

sim::Status TraceWriter::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(path_, "cannot write " + temp_path_, errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return sim::Status::Ok();
}

}  // namespace traces
