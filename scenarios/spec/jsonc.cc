#include "scenarios/spec/jsonc.h"

#include <set>

#include "scenarios/spec/util.h"

namespace scenarios::spec {

// A recursive-descent walk; recursion is bounded by kDepthMax. Every method returns false when
// the scan must stop (a syntax error, or an issue recorded).
class JsoncScanner {
 public:
  JsoncScanner(std::string_view text, JsoncIndex& index) : text_(text), index_(index) {}

  void run() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a UTF-8 byte order mark
    if (skip_space() && !at_end()) value("", 0);
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  // Skips whitespace and comments. False on an unterminated block comment.
  bool skip_space() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        const std::size_t nl = text_.find('\n', pos_);
        pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        const std::size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return false;
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return true;
  }

  bool value(const std::string& pointer, int depth) {
    index_.offsets_.emplace(pointer, pos_);
    const char c = peek();
    if (c == '{' || c == '[') {
      if (depth >= JsoncIndex::kDepthMax) {
        index_.syntax_issue_ = JsoncIssue{
            pos_, "nested deeper than " + std::to_string(JsoncIndex::kDepthMax) + " levels"};
        return false;
      }
      return c == '{' ? object(pointer, depth + 1) : array(pointer, depth + 1);
    }
    if (c == '"') {
      std::string ignored;
      return string(&ignored);
    }
    // A literal (number, true, false, null): nlohmann checks its spelling.
    const std::size_t start = pos_;
    while (!at_end()) {
      const char d = text_[pos_];
      if (d == ',' || d == ']' || d == '}' || d == ' ' || d == '\t' || d == '\n' || d == '\r' ||
          d == '/' || d == '"' || d == '{' || d == '[' || d == ':') {
        break;
      }
      ++pos_;
    }
    return pos_ > start;
  }

  bool object(const std::string& pointer, int depth) {
    ++pos_;  // '{'
    std::set<std::string> seen;
    if (!skip_space()) return false;
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      if (peek() != '"') return false;
      const std::size_t key_offset = pos_;
      std::string key;
      if (!string(&key)) return false;
      const std::string child = pointer + "/" + JsoncIndex::escape(key);
      if (!seen.insert(key).second) {
        index_.duplicate_keys_.push_back({key_offset, "duplicate key " + quote(key)});
      }
      index_.offsets_.emplace(child, key_offset);
      if (!skip_space() || peek() != ':') return false;
      ++pos_;
      if (!skip_space()) return false;
      // A member's own offset stays its key's (emplace keeps the first); nested members and
      // elements get theirs. After a duplicate key, nested offsets stay the first copy's: the
      // duplicate is an error anyway.
      if (!value(child, depth)) return false;
      if (!skip_space()) return false;
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      if (peek() != ',') return false;
      const std::size_t comma = pos_;
      ++pos_;
      if (!skip_space()) return false;
      if (peek() == '}') {
        index_.syntax_issue_ = JsoncIssue{comma, "trailing comma before '}' (JSON allows none)"};
        return false;
      }
    }
  }

  bool array(const std::string& pointer, int depth) {
    ++pos_;  // '['
    if (!skip_space()) return false;
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (std::size_t i = 0;; ++i) {
      if (!value(pointer + "/" + std::to_string(i), depth)) return false;
      if (!skip_space()) return false;
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      if (peek() != ',') return false;
      const std::size_t comma = pos_;
      ++pos_;
      if (!skip_space()) return false;
      if (peek() == ']') {
        index_.syntax_issue_ = JsoncIssue{comma, "trailing comma before ']' (JSON allows none)"};
        return false;
      }
    }
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(unsigned* out) {
    if (pos_ + 4 > text_.size()) return false;
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(text_[pos_ + i]);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  static void append_utf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xc0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xe0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      *out += static_cast<char>(0xf0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  // A string literal, decoded into *out as nlohmann decodes it.
  bool string(std::string* out) {
    ++pos_;  // '"'
    while (!at_end()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (at_end()) return false;
      const char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          *out += e;
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(&cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned low = 0;
            if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
              return false;
            }
            pos_ += 2;
            if (!hex4(&low) || low < 0xdc00 || low > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  std::string_view text_;
  JsoncIndex& index_;
  std::size_t pos_ = 0;
};

JsoncIndex JsoncIndex::scan(std::string_view text) {
  JsoncIndex index;
  JsoncScanner(text, index).run();
  return index;
}

std::optional<std::size_t> JsoncIndex::offset(const std::string& pointer) const {
  auto it = offsets_.find(pointer);
  if (it == offsets_.end()) return std::nullopt;
  return it->second;
}

std::string JsoncIndex::escape(std::string_view segment) {
  std::string out;
  for (char c : segment) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace scenarios::spec
