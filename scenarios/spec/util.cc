#include "scenarios/spec/util.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

namespace scenarios::spec {
namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reserved words of strict-mode ES modules (bindings become properties of `env`, but a name that
// cannot be a variable would surprise destructuring code: `const { delete } = env`).
constexpr std::array<std::string_view, 44> kReserved = {
    "await",     "break",  "case",     "catch",  "class",      "const",   "continue",  "debugger",
    "default",   "delete", "do",       "else",   "enum",       "export",  "extends",   "false",
    "finally",   "for",    "function", "if",     "implements", "import",  "in",        "instanceof",
    "interface", "let",    "new",      "null",   "package",    "private", "protected", "public",
    "return",    "static", "super",    "switch", "this",       "throw",   "true",      "try",
    "typeof",    "var",    "void",     "while",
};

}  // namespace

bool is_valid_name(std::string_view s) {
  if (s.empty() || s.size() > kNameBytesMax) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
           c == '.' || c == '_';
  });
}

bool is_js_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return is_ident_start(c) || is_digit(c); })) {
    return false;
  }
  return std::find(kReserved.begin(), kReserved.end(), s) == kReserved.end();
}

std::optional<std::string> normalize_path(std::string_view base, std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.find('\\') != std::string_view::npos ||
      rel.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::string> parts;
  auto push = [&](std::string_view text) {
    std::size_t i = 0;
    while (i <= text.size()) {
      std::size_t j = text.find('/', i);
      if (j == std::string_view::npos) j = text.size();
      std::string_view part = text.substr(i, j - i);
      if (part == "..") {
        if (parts.empty()) return false;
        parts.pop_back();
      } else if (!part.empty() && part != ".") {
        parts.emplace_back(part);
      }
      i = j + 1;
    }
    return true;
  };
  if (!push(base) || !push(rel) || parts.empty()) return std::nullopt;
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

std::string parent_dir(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

LineCol line_col(std::string_view text, std::size_t offset) {
  LineCol lc;
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.column = 1;
    } else {
      ++lc.column;
    }
  }
  return lc;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace scenarios::spec
