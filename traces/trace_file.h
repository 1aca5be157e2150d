// The trace file format's constants and message types (see traces/trace.proto for the layout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "traces/recorded_event.h"
#include "traces/trace.pb.h"

namespace traces {

using Header = edgesim::trace::Header;
using Footer = edgesim::trace::Footer;
using TraceNode = edgesim::trace::Node;
using PropertyResult = edgesim::trace::Property;

inline constexpr std::uint32_t kFormatVersion = 3;
inline constexpr std::size_t kMagicBytes = 8;
inline constexpr std::string_view kMagicPlain = "EDGESIMT";
inline constexpr std::string_view kMagicZstd = "EDGESIMZ";
// A record larger than this is refused when written and treated as corruption when read, so a
// corrupt length cannot make the reader allocate without bound.
inline constexpr std::size_t kRecordBytesMax = std::size_t{64} << 20;

enum class Compression { kNone, kZstd };

// The node table of a header, by id.
NodeNames node_names(const Header& header);

// XXH3-64 of the footer's deterministic serialization with footer_hash cleared: what the writer
// stores in footer_hash and the reader checks, so the verdict and explanations are covered too.
std::uint64_t footer_hash(const Footer& footer);

}  // namespace traces
