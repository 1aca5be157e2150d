// Template: the text fields of a load's requests and of their history records, with `${...}`
// placeholders filled in per request (the language is documented in scenario.proto, messages
// Request and Record):
//   request fields  ${client} ${seq} ${int:A:B} ${choice:a|b|c}      (may draw from the seed)
//   record fields   ${client} ${seq} ${seg:N} ${query:NAME} ${header:NAME} ${body} ${method}
//                   ${path}                                         (read the sent request)
//   both            $$ for a literal '$'; a '$' not followed by '{' or '$' is itself.
// Parsing checks everything a spec author can get wrong, so expansion cannot fail.
//
// A value type; expansion is a pure function of the template and the context (the RNG stream
// included).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/result.h"
#include "sim/rng.h"

namespace scenarios::spec {

// What a template may read or draw while it is expanded.
struct TemplateContext {
  int client = 0;           // the client's index in its load
  std::uint64_t seq = 0;    // the client's request number
  sim::Rng* rng = nullptr;  // REQUIRES non-null when the template draws (request fields)
  // The request as sent, for record fields.
  std::string method;
  std::string url;  // path and query, or a full URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class Template {
 public:
  enum class Use { kRequest, kRecord };
  static constexpr std::size_t kTextBytesMax = 1 << 20;
  static constexpr std::size_t kChoicesMax = 256;

  Template() = default;
  // Errors say what is wrong with the text; the caller adds where it is.
  static sim::Result<Template> parse(std::string_view text, Use use);

  const std::string& text() const { return text_; }
  // True when the template has no placeholders: expand() returns text() (with $$ undone).
  bool is_literal() const;
  // True when expanding draws from ctx.rng.
  bool draws() const;
  std::string expand(const TemplateContext& ctx) const;

  bool operator==(const Template& other) const { return text_ == other.text_; }

 private:
  struct Part {
    enum class Kind {
      kLiteral,
      kClient,
      kSeq,
      kInt,
      kChoice,
      kSeg,
      kQuery,
      kHeader,
      kBody,
      kMethod,
      kPath
    };
    Kind kind = Kind::kLiteral;
    std::string text;             // literal text, or the NAME of query/header
    std::int64_t lo = 0, hi = 0;  // int range; seg index in lo
    std::vector<std::string> choices;
  };
  struct Placeholder;

  void append_literal(std::string_view s);
  // `inner` is the text between "${" and "}".
  static sim::Result<Part> parse_placeholder(std::string_view inner, Use use);
  static sim::Result<Part> parse_int_range(const Placeholder& ph);
  static sim::Result<Part> parse_choice(const Placeholder& ph);
  static sim::Result<Part> parse_request_read(const Placeholder& ph);

  std::string text_;
  std::vector<Part> parts_;
};

// The parts of a request URL that record templates read: "https://h/a/b?x=1" -> path "/a/b",
// query "x=1". A URL without scheme is a path.
std::string url_path(std::string_view url);
std::string url_query(std::string_view url);

}  // namespace scenarios::spec
