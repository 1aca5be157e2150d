#include "scenarios/spec/template.h"

#include <algorithm>
#include <charconv>

#include "scenarios/spec/util.h"

namespace scenarios::spec {
namespace {

bool parse_int(std::string_view s, std::int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

sim::Error invalid(std::string message) {
  return sim::Error{sim::ErrorKind::kInvalid, std::move(message)};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

std::string url_path(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    const std::size_t slash = url.find('/', scheme + 3);
    url = slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
  }
  return std::string(url.substr(0, std::min(url.find('?'), url.find('#'))));
}

std::string url_query(std::string_view url) {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = url.substr(q + 1);
  return std::string(query.substr(0, query.find('#')));
}

// A placeholder as written, "${name:arg}"; messages show it whole.
struct Template::Placeholder {
  std::string_view name;
  std::string_view arg;
  bool has_arg = false;
  std::string shown;
};

sim::Result<Template> Template::parse(std::string_view text, Use use) {
  if (text.size() > kTextBytesMax) {
    return invalid("longer than " + std::to_string(kTextBytesMax) + " bytes");
  }
  Template t;
  t.text_ = std::string(text);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      t.append_literal(text.substr(i));
      break;
    }
    t.append_literal(text.substr(i, dollar - i));
    if (dollar + 1 < text.size() && text[dollar + 1] == '$') {
      t.append_literal("$");
      i = dollar + 2;
      continue;
    }
    if (dollar + 1 >= text.size() || text[dollar + 1] != '{') {
      t.append_literal("$");
      i = dollar + 1;
      continue;
    }
    const std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      return invalid("unterminated placeholder " + quote(text.substr(dollar)) + " (missing '}')");
    }
    sim::Result<Part> part = parse_placeholder(text.substr(dollar + 2, close - dollar - 2), use);
    if (!part.ok()) return part.error();
    t.parts_.push_back(std::move(*part));
    i = close + 1;
  }
  return t;
}

void Template::append_literal(std::string_view s) {
  if (parts_.empty() || parts_.back().kind != Part::Kind::kLiteral) parts_.push_back({});
  parts_.back().text += s;
}

sim::Result<Template::Part> Template::parse_placeholder(std::string_view inner, Use use) {
  const std::size_t colon = inner.find(':');
  Placeholder ph;
  ph.name = inner.substr(0, colon);
  ph.has_arg = colon != std::string_view::npos;
  ph.arg = ph.has_arg ? inner.substr(colon + 1) : std::string_view();
  ph.shown = "${" + std::string(inner) + "}";
  const std::string_view name = ph.name;
  if (name == "client" || name == "seq") {
    if (ph.has_arg) return invalid(ph.shown + " takes no argument");
    Part p;
    p.kind = name == "client" ? Part::Kind::kClient : Part::Kind::kSeq;
    return p;
  }
  if (name == "int" || name == "choice") {
    if (use == Use::kRecord) {
      return invalid(ph.shown + " draws a random value; record fields only read the request (use " +
                     "${seg:N}, ${query:NAME}, ${header:NAME} or ${body})");
    }
    return name == "int" ? parse_int_range(ph) : parse_choice(ph);
  }
  if (name == "seg" || name == "query" || name == "header" || name == "body" || name == "method" ||
      name == "path") {
    if (use == Use::kRequest) {
      return invalid(ph.shown + " reads the request; only record fields may use it");
    }
    return parse_request_read(ph);
  }
  const std::vector<std::string> known =
      use == Use::kRequest ? std::vector<std::string>{"client", "seq", "int", "choice"}
                           : std::vector<std::string>{"client", "seq",  "seg",    "query",
                                                      "header", "body", "method", "path"};
  return invalid("unknown placeholder " + quote(ph.shown) + did_you_mean(name, known) +
                 " (known: " + join(known) + "; write $$ for a literal '$')");
}

sim::Result<Template::Part> Template::parse_int_range(const Placeholder& ph) {
  Part p;
  const std::size_t c2 = ph.arg.find(':');
  if (!ph.has_arg || c2 == std::string_view::npos || !parse_int(ph.arg.substr(0, c2), &p.lo) ||
      !parse_int(ph.arg.substr(c2 + 1), &p.hi) || p.lo > p.hi) {
    return invalid(ph.shown + ": write ${int:A:B} with integers A <= B");
  }
  p.kind = Part::Kind::kInt;
  return p;
}

sim::Result<Template::Part> Template::parse_choice(const Placeholder& ph) {
  Part p;
  std::size_t s = 0;
  // "${choice:}" has nothing to choose from (an empty alternative beside others is allowed).
  while (ph.has_arg && !ph.arg.empty() && s <= ph.arg.size()) {
    std::size_t bar = ph.arg.find('|', s);
    if (bar == std::string_view::npos) bar = ph.arg.size();
    p.choices.emplace_back(ph.arg.substr(s, bar - s));
    s = bar + 1;
  }
  if (p.choices.empty() || p.choices.size() > kChoicesMax) {
    return invalid(ph.shown + ": write ${choice:a|b|c} with 1 to " + std::to_string(kChoicesMax) +
                   " choices");
  }
  p.kind = Part::Kind::kChoice;
  return p;
}

sim::Result<Template::Part> Template::parse_request_read(const Placeholder& ph) {
  Part p;
  const std::string_view name = ph.name;
  if (name == "seg") {
    if (!ph.has_arg || !parse_int(ph.arg, &p.lo) || p.lo < 0 || p.lo > 1000) {
      return invalid(ph.shown + ": write ${seg:N} with N from 0 to 1000");
    }
    p.kind = Part::Kind::kSeg;
  } else if (name == "query" || name == "header") {
    if (!ph.has_arg || ph.arg.empty()) return invalid(ph.shown + ": name the " + std::string(name));
    p.kind = name == "query" ? Part::Kind::kQuery : Part::Kind::kHeader;
    p.text = std::string(ph.arg);
  } else {
    if (ph.has_arg) return invalid(ph.shown + " takes no argument");
    p.kind = name == "body"     ? Part::Kind::kBody
             : name == "method" ? Part::Kind::kMethod
                                : Part::Kind::kPath;
  }
  return p;
}

bool Template::is_literal() const {
  return std::all_of(parts_.begin(), parts_.end(),
                     [](const Part& p) { return p.kind == Part::Kind::kLiteral; });
}

bool Template::draws() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const Part& p) {
    return p.kind == Part::Kind::kInt || p.kind == Part::Kind::kChoice;
  });
}

std::string Template::expand(const TemplateContext& ctx) const {
  std::string out;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Part::Kind::kLiteral:
        out += p.text;
        break;
      case Part::Kind::kClient:
        out += std::to_string(ctx.client);
        break;
      case Part::Kind::kSeq:
        out += std::to_string(ctx.seq);
        break;
      case Part::Kind::kInt:
        SIM_REQUIRE(ctx.rng != nullptr);
        out += std::to_string(ctx.rng->uniform_int(p.lo, p.hi));
        break;
      case Part::Kind::kChoice:
        SIM_REQUIRE(ctx.rng != nullptr);
        out += p.choices[ctx.rng->below(p.choices.size())];
        break;
      case Part::Kind::kSeg: {
        const std::string path = url_path(ctx.url);
        std::int64_t n = 0;
        std::size_t i = 0;
        while (i < path.size()) {
          if (path[i] == '/') {
            ++i;
            continue;
          }
          std::size_t end = path.find('/', i);
          if (end == std::string::npos) end = path.size();
          if (n++ == p.lo) {
            out += path.substr(i, end - i);
            break;
          }
          i = end;
        }
        break;
      }
      case Part::Kind::kQuery: {
        const std::string query = url_query(ctx.url);
        std::size_t i = 0;
        while (i <= query.size()) {
          std::size_t amp = query.find('&', i);
          if (amp == std::string::npos) amp = query.size();
          const std::string_view pair = std::string_view(query).substr(i, amp - i);
          const std::size_t eq = pair.find('=');
          if (pair.substr(0, eq) == p.text) {
            if (eq != std::string_view::npos) out += pair.substr(eq + 1);
            break;
          }
          i = amp + 1;
        }
        break;
      }
      case Part::Kind::kHeader:
        for (const auto& [k, v] : ctx.headers) {
          if (iequals(k, p.text)) {
            out += v;
            break;
          }
        }
        break;
      case Part::Kind::kBody:
        out += ctx.body;
        break;
      case Part::Kind::kMethod:
        out += ctx.method;
        break;
      case Part::Kind::kPath:
        out += url_path(ctx.url);
        break;
    }
  }
  return out;
}

}  // namespace scenarios::spec
