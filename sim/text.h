// Text for people: quoting bytes safely and suggesting the name a typo meant. Used by every
// error that names something the user wrote (scenario keys, knobs, bindings).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sim {

// `s` in double quotes with control and non-ASCII bytes escaped, cut to about 80 bytes: safe to
// print whatever bytes a broken input holds.
std::string quote(std::string_view s);

// " (did you mean \"x\"?)" naming the closest candidates (up to three equally close) when they
// are close to `word` (at most 2 edits, counting a swap of neighbours as one, and fewer than half
// its length), else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// Whether `s` is well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no
// truncated sequence.
bool is_utf8(std::string_view s);

}  // namespace sim
