// Tests of the request and record templates.
#include "scenarios/spec/template.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "scenarios/spec/util.h"

namespace scenarios::spec {
namespace {

Template request(std::string_view text) {
  auto t = Template::parse(text, Template::Use::kRequest);
  EXPECT_TRUE(t.ok()) << t.error().message;
  return t.ok() ? *t : Template();
}

Template record(std::string_view text) {
  auto t = Template::parse(text, Template::Use::kRecord);
  EXPECT_TRUE(t.ok()) << t.error().message;
  return t.ok() ? *t : Template();
}

std::string error_of(std::string_view text, Template::Use use) {
  auto t = Template::parse(text, use);
  return t.ok() ? "(parsed)" : t.error().message;
}

TEST(Template, RequestPlaceholdersDrawFromTheSeed) {
  const Template t = request("/k${int:0:9}/${choice:a|b|c}?c=${client}&n=${seq}");
  EXPECT_FALSE(t.is_literal());
  EXPECT_TRUE(t.draws());
  sim::Rng a(42), b(42);
  TemplateContext ca, cb;
  ca.rng = &a;
  cb.rng = &b;
  ca.client = cb.client = 3;
  ca.seq = cb.seq = 17;
  const std::string first = t.expand(ca);
  EXPECT_EQ(first, t.expand(cb));  // same seed, same draw
  EXPECT_TRUE(first.rfind("/k", 0) == 0);
  EXPECT_NE(first.find("?c=3&n=17"), std::string::npos) << first;
  for (int i = 0; i < 200; ++i) {
    const std::string s = t.expand(ca);
    EXPECT_TRUE(s[2] >= '0' && s[2] <= '9') << s;
    EXPECT_TRUE(s[4] == 'a' || s[4] == 'b' || s[4] == 'c') << s;
  }
}

TEST(Template, RecordPlaceholdersReadTheRequest) {
  TemplateContext ctx;
  ctx.method = "PUT";
  ctx.url = "https://app.test/kv/user%201/set?key=k7&flag&v=2#frag";
  ctx.headers = {{"X-Key", "hk"}};
  ctx.body = "payload";
  ctx.client = 1;
  EXPECT_EQ(record("${seg:0}|${seg:1}|${seg:2}|${seg:9}").expand(ctx), "kv|user%201|set|");
  EXPECT_EQ(record("${query:key}|${query:flag}|${query:v}|${query:none}").expand(ctx), "k7||2|");
  EXPECT_EQ(record("${header:x-key}|${body}|${method}|${path}|${client}").expand(ctx),
            "hk|payload|PUT|/kv/user%201/set|1");
  EXPECT_FALSE(record("${body}").draws());
}

TEST(Template, DollarEscapes) {
  const Template t = request("$$5 costs $5, {\"json\": true}, $$${seq}");
  TemplateContext ctx;
  ctx.seq = 9;
  EXPECT_EQ(t.expand(ctx), "$5 costs $5, {\"json\": true}, $9");
  EXPECT_TRUE(request("price: $").is_literal());
}

TEST(Template, Errors) {
  using U = Template::Use;
  EXPECT_EQ(error_of("/${seq", U::kRequest), "unterminated placeholder \"${seq\" (missing '}')");
  EXPECT_EQ(error_of("/${sq}", U::kRequest),
            "unknown placeholder \"${sq}\" (did you mean \"seq\"?) (known: client, seq, int, "
            "choice; write $$ for a literal '$')");
  EXPECT_EQ(error_of("${int:5:1}", U::kRequest),
            "${int:5:1}: write ${int:A:B} with integers A <= B");
  EXPECT_EQ(error_of("${int:1}", U::kRequest), "${int:1}: write ${int:A:B} with integers A <= B");
  EXPECT_EQ(error_of("${choice}", U::kRequest),
            "${choice}: write ${choice:a|b|c} with 1 to 256 choices");
  EXPECT_EQ(error_of("${choice:}", U::kRequest),
            "${choice:}: write ${choice:a|b|c} with 1 to 256 choices");
  EXPECT_EQ(error_of("${body}", U::kRequest),
            "${body} reads the request; only record fields may use it");
  EXPECT_EQ(error_of("${seq:1}", U::kRecord), "${seq:1} takes no argument");
  EXPECT_EQ(error_of("${seg:x}", U::kRecord), "${seg:x}: write ${seg:N} with N from 0 to 1000");
  EXPECT_EQ(error_of("${query:}", U::kRecord), "${query:}: name the query");
}

TEST(Template, UrlParts) {
  EXPECT_EQ(url_path("/a/b?x=1#f"), "/a/b");
  EXPECT_EQ(url_path("https://h.test"), "/");
  EXPECT_EQ(url_path("https://h.test/p?q"), "/p");
  EXPECT_EQ(url_query("/a?x=1&y=2#f"), "x=1&y=2");
  EXPECT_EQ(url_query("/a"), "");
}

// Escaping every '$' of any text gives a literal template that expands to the text.
RC_GTEST_PROP(TemplateLaws, EscapedTextIsLiteral, (std::string text)) {
  std::string escaped;
  for (char c : text) escaped += c == '$' ? std::string("$$") : std::string(1, c);
  auto t = Template::parse(escaped, Template::Use::kRequest);
  RC_ASSERT(t.ok());
  RC_ASSERT(t->is_literal());
  RC_ASSERT(t->expand({}) == text);
}

// Parsing never crashes; an accepted template expands without a context it does not need.
RC_GTEST_PROP(TemplateLaws, AnyTextParsesOrIsRejected, (std::string text, bool record_use)) {
  auto t = Template::parse(text, record_use ? Template::Use::kRecord : Template::Use::kRequest);
  if (!t.ok()) return;
  sim::Rng rng(1);
  TemplateContext ctx;
  ctx.rng = &rng;
  (void)t->expand(ctx);
}

TEST(Util, NormalizePath) {
  EXPECT_EQ(normalize_path("", "./src/index.js"), "src/index.js");
  EXPECT_EQ(normalize_path("workers/a", "../shared/x.js"), "workers/shared/x.js");
  EXPECT_EQ(normalize_path("", "a//b/./c"), "a/b/c");
  EXPECT_EQ(normalize_path("", "../x.js"), std::nullopt);
  EXPECT_EQ(normalize_path("", "/etc/passwd"), std::nullopt);
  EXPECT_EQ(normalize_path("", "a\\b"), std::nullopt);
  EXPECT_EQ(normalize_path("", "."), std::nullopt);
}

TEST(Util, NamesAndIdentifiers) {
  EXPECT_TRUE(is_js_identifier("COUNTER"));
  EXPECT_TRUE(is_js_identifier("$k_2"));
  EXPECT_FALSE(is_js_identifier("2k"));
  EXPECT_FALSE(is_js_identifier("my-kv"));
  EXPECT_FALSE(is_js_identifier("class"));
  EXPECT_TRUE(is_valid_name("kv-counter.v2_x"));
  EXPECT_FALSE(is_valid_name("a b"));
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name(std::string(65, 'a')));
  EXPECT_EQ(quote("a\"b\n\x01\xff"), "\"a\\\"b\\n\\x01\\xff\"");
  EXPECT_EQ(did_you_mean("durattion", {"duration", "summary"}), " (did you mean \"duration\"?)");
  EXPECT_EQ(did_you_mean("zz", {"duration"}), "");
}

}  // namespace
}  // namespace scenarios::spec
