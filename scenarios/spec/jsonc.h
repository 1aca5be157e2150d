// JsoncIndex: where each key and value of a JSONC document (JSON with // and /* */ comments) is,
// by JSON pointer, so that errors found after parsing can name the line of the key they are
// about ("/durable_objects/bindings/0/class_name" -> byte offset of that key). Keys with the same
// name at other places have other pointers, so they never get confused.
//
// The scan also finds what nlohmann::json 3.11 accepts silently or reports unclearly: a key given
// twice in one object (nlohmann keeps the last), a trailing comma (nlohmann: "unexpected '}'"),
// and nesting too deep to walk safely. It is not a validator: it stops at the first syntax error
// it cannot explain and leaves that to nlohmann's parser. Internal to scenarios/spec/.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scenarios::spec {

struct JsoncIssue {
  std::size_t offset = 0;
  std::string message;
};

class JsoncIndex {
 public:
  // Objects and arrays nested deeper than this are refused.
  static constexpr int kDepthMax = 64;

  static JsoncIndex scan(std::string_view text);

  // The byte offset of the member's key (object members) or of the value (array elements, and
  // the root at pointer ""). nullopt when the scan did not get there.
  std::optional<std::size_t> offset(const std::string& pointer) const;

  // A syntax problem the scan explains better than nlohmann would (trailing comma, nesting too
  // deep). Report it instead of parsing.
  const std::optional<JsoncIssue>& syntax_issue() const { return syntax_issue_; }
  // Keys given twice in one object, in document order (the offset is the second key's).
  const std::vector<JsoncIssue>& duplicate_keys() const { return duplicate_keys_; }

  // RFC 6901 escaping of one pointer segment: '~' -> "~0", '/' -> "~1".
  static std::string escape(std::string_view segment);

 private:
  std::map<std::string, std::size_t> offsets_;
  std::optional<JsoncIssue> syntax_issue_;
  std::vector<JsoncIssue> duplicate_keys_;

  friend class JsoncScanner;
};

}  // namespace scenarios::spec
