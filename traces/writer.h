// TraceWriter: the sink that writes a trace file.
//
// Atomic: everything goes to "<path>.tmp-<pid>-<n>" in the same directory; finish() writes the
// footer, fsyncs, and renames the temp file onto `path` (then fsyncs the directory). Until then
// `path` does not exist or keeps its old content. A writer destroyed or abort()ed before finish()
// removes its temp file: an unfinished run leaves nothing behind, and neither does one ended by
// SIGINT or SIGTERM (a handler removes the temp files of open writers, unless the program has
// installed its own). The path must be a regular file or absent, in a directory that exists: a
// device, a directory or a link there is refused by open(), before the run. The temp file is
// created with O_EXCL | O_NOFOLLOW, so a file planted at its predictable name is never written.
//
// Errors are values and never crash: open() returns them; a write error while events arrive is
// latched (later events are dropped) and finish() returns it. finish() may be called on any
// error path; a second call returns an error and changes nothing.
//
// Events are buffered (WriterOptions::buffer_bytes) and reach the disk in large writes.
// Serialization is deterministic (map fields sorted), so a rerun of a seed writes the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sim/event.h"
#include "sim/result.h"
#include "traces/hash.h"
#include "traces/trace_file.h"

namespace traces {

struct WriterOptions {
  Compression compression = Compression::kNone;
  int zstd_level = 3;
  // Buffered record bytes that trigger a write.
  std::size_t buffer_bytes = std::size_t{1} << 20;
  // fsync the file and its directory in finish(). Tests may turn it off for speed.
  bool sync = true;
};

class TraceWriter : public sim::EventSink {
 public:
  // Creates the temp file and writes the magic and the header (format_version is set to
  // kFormatVersion). Fails with kIo when the file cannot be created or written, kInvalid when the
  // header is larger than a record may be.
  static sim::Result<std::unique_ptr<TraceWriter>> open(const std::string& path, Header header,
                                                        WriterOptions options = {});

  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  ~TraceWriter() override;  // abort() unless finished

  void on_event(const sim::TraceEvent& event) override;

  // Fills the footer's event_count, final_hash and header_hash, writes it, and publishes the
  // file at path(). On failure the temp file is removed and the error returned.
  sim::Status finish(Footer footer);
  // Drops the run: closes and removes the temp file. Idempotent; a no-op after finish().
  void abort();

  // The first error so far (ok while none).
  const sim::Status& status() const { return status_; }
  bool finished() const { return state_ == State::kFinished; }
  std::uint64_t event_count() const { return hash_.count(); }
  std::uint64_t hash() const { return hash_.value(); }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  enum class State { kOpen, kFinished, kAborted };
  struct Zstd;

  TraceWriter(std::string path, std::string temp_path, int fd, WriterOptions options);

  // `what` names the record in an error message; an event's index follows it.
  sim::Status append(const edgesim::trace::Record& record, const char* what,
                     std::optional<std::uint64_t> index = std::nullopt);
  sim::Status flush(bool end);
  sim::Status write_all(const char* data, std::size_t size);
  sim::Status fail(sim::Status status);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  WriterOptions options_;
  State state_ = State::kOpen;
  sim::Status status_;
  RunningHash hash_;
  std::uint64_t header_hash_ = 0;
  std::string buffer_;             // serialized records not yet written (uncompressed)
  edgesim::trace::Record record_;  // reused for events
  std::unique_ptr<Zstd> zstd_;
};

}  // namespace traces
