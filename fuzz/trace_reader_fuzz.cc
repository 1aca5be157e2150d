// Fuzz target: the trace reader and the exporters behind `edgesim show` over arbitrary bytes.
// A trace is untrusted input (a colleague's file): it must read back or fail with an error that
// names the file, never crash, hang or allocate without bound.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "traces/export.h"
#include "traces/reader.h"

// Protobuf logs each string field with invalid UTF-8 it refuses; the reader reports those as
// corruption already.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto trace = traces::read_trace_bytes(bytes, "fuzz.trace");
  if (!trace.ok() && trace.error().message.rfind("fuzz.trace", 0) != 0) std::abort();
  for (int format = 0; format < 2; ++format) {
    auto reader = traces::TraceReader::from_bytes(bytes, "fuzz.trace");
    if (!reader.ok()) break;
    std::ostringstream out;
    sim::Status s = format == 0 ? traces::write_timeline(**reader, out)
                                : traces::write_chrome_trace(**reader, out);
    // The exporters read the same bytes: they agree with the reader on whether they are valid.
    if (s.ok() != trace.ok()) std::abort();
  }
  return 0;
}
