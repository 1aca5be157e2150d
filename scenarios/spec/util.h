// Small helpers shared by the spec loader and the wrangler parser: name checks, folder-relative
// path normalization, quoting for error messages, "did you mean" suggestions, and byte offsets
// to line:column. Internal to scenarios/spec/.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/text.h"

namespace scenarios::spec {

// A name of a node, load, property or variant: 1 to kNameBytesMax characters from
// [A-Za-z0-9._-].
inline constexpr std::size_t kNameBytesMax = 64;
bool is_valid_name(std::string_view s);

// An ASCII JavaScript identifier that is not a reserved word ("COUNTER", "my_kv", "$x").
bool is_js_identifier(std::string_view s);

// Joins `rel` to the folder-relative directory `base` ("" for the folder itself) and normalizes
// it lexically: "./" and "x/../" vanish, '/' separates. Returns nullopt for an absolute path, a
// backslash, an empty result, or a path that leaves the folder.
std::optional<std::string> normalize_path(std::string_view base, std::string_view rel);
// The directory part of a folder-relative path: "a/b/c.js" -> "a/b", "c.js" -> "".
std::string parent_dir(std::string_view path);

// Quoting and typo suggestions (sim/text.h).
using sim::did_you_mean;
using sim::quote;

// 1-based line and column (in bytes) of a byte offset into `text`. An offset past the end maps
// to the end.
struct LineCol {
  int line = 1;
  int column = 1;
};
LineCol line_col(std::string_view text, std::size_t offset);

// Well-formed UTF-8, as protobuf requires of `string` fields.
using sim::is_utf8;

// Joins with ", ".
std::string join(const std::vector<std::string>& parts, std::string_view sep = ", ");

}  // namespace scenarios::spec
