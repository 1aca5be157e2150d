// TraceReader: reads a trace file record by record and checks it as it goes.
//
// open() checks the magic and reads the header; next() returns the events one at a time, then
// checks the footer. Every event's stored hash is compared with the running hash recomputed from
// the events, and the footer's counts and hashes with what was read, so corruption anywhere in
// the events or the footer is reported (a changed header is caught by the footer's header hash).
//
// Errors are values, never crashes or hangs, whatever the bytes: each names the file, the byte
// offset and the event index, e.g.
//   "run.trace: truncated at byte 18234 inside event #512 or the footer (record claims 97 bytes,
//    40 left)"
//   "run.trace: event #12 at byte 900: hash mismatch (file says 0x..., recomputed 0x...): the file
//    is corrupted"
//   "run.trace: missing footer (the run did not finish): the file ends at byte 4410 after 40
//    events"
// In a zstd-compressed trace, offsets count bytes of the decompressed stream (magic included).
// An error is sticky: after one, next() returns it again. Memory stays bounded by the largest
// record (at most kRecordBytesMax), whatever a corrupt length claims.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/result.h"
#include "traces/hash.h"
#include "traces/recorded_event.h"
#include "traces/trace_file.h"

namespace traces {

class TraceReader {
 public:
  // Opens the file, checks the magic and reads the header.
  static sim::Result<std::unique_ptr<TraceReader>> open(const std::string& path);
  // Reads a trace held in memory; `name` stands for the file name in error messages.
  static sim::Result<std::unique_ptr<TraceReader>> from_bytes(std::string bytes,
                                                              std::string name = "<memory>");

  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;
  ~TraceReader();

  const std::string& name() const { return name_; }
  Compression compression() const { return compression_; }
  const Header& header() const { return header_; }

  // The next event, or nullptr once the footer was read and checked. The event stays valid until
  // the next call.
  sim::Result<const RecordedEvent*> next();

  bool at_end() const { return footer_.has_value(); }
  // REQUIRES: at_end()
  const Footer& footer() const;
  std::uint64_t events_read() const { return hash_.count(); }
  // The running hash of the events read so far.
  std::uint64_t hash() const { return hash_.value(); }

 private:
  class Source;
  class FdSource;
  class MemorySource;
  class ZstdSource;

  TraceReader(std::string name, std::unique_ptr<Source> source);
  static sim::Result<std::unique_ptr<TraceReader>> start(std::unique_ptr<TraceReader> reader);

  // Reads one record into record_ and its bytes into payload_. Returns false at a clean end of
  // file (no byte left). event_index: the event expected next; nullopt for the header.
  sim::Result<bool> read_record(std::optional<std::uint64_t> event_index);
  sim::Result<bool> refill();
  sim::Result<std::size_t> read_bytes(std::string* out, std::size_t n);
  sim::Result<int> get_byte();
  sim::Error corrupt(const std::string& message) const;
  sim::Error fail(sim::Error error);
  std::string at_byte(std::uint64_t offset) const;
  sim::Status check_footer(std::uint64_t record_offset);

  std::string name_;
  std::unique_ptr<Source> source_;
  Compression compression_ = Compression::kNone;
  // Read-ahead: bytes [pos_, buffer_.size()) of buffer_ are the next ones; offset_ is the stream
  // offset of buffer_[pos_].
  std::string buffer_;
  std::size_t pos_ = 0;
  std::uint64_t offset_ = 0;
  bool source_done_ = false;

  std::string payload_;              // the current record's bytes
  std::uint64_t record_offset_ = 0;  // stream offset of the current record's length prefix
  edgesim::trace::Record record_;

  Header header_;
  std::uint64_t header_hash_ = 0;
  std::optional<Footer> footer_;
  RunningHash hash_;
  RecordedEvent event_;
  std::optional<sim::Error> error_;
};

// A whole trace in memory.
struct Trace {
  Header header;
  std::vector<RecordedEvent> events;
  Footer footer;
};

sim::Result<Trace> read_trace(const std::string& path);
sim::Result<Trace> read_trace_bytes(std::string bytes, std::string name = "<memory>");

}  // namespace traces
