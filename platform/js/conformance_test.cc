// The Web API conformance suite: every platform/js/conformance/*.js script (but the '_' ones) runs
// as a Worker on a simulated PoP, next to origins it can fetch() from, and reports its cases.
// Each failing case fails the test with its file and name. Also: the SHA vectors of FIPS 180-4
// and NIST, the HTTP wire format of origins, and a rerun proving the suite deterministic.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "platform/js/engine.h"
#include "platform/js/web_natives.h"
#include "platform/runtime/origin.h"
#include "platform/runtime/test_trace.h"
#include "platform/runtime/worker.h"
#include "sim/network.h"
#include "sim/world.h"

namespace js {
namespace {

std::string to_hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// ---- SHA (FIPS 180-4 examples, NIST CAVS short messages) ---------------------------------------

TEST(ShaDigest, FipsVectors) {
  const std::string abc = "abc";
  const std::string m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string m896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
      "opqrsmnopqrstnopqrstu";
  EXPECT_EQ(to_hex(sha_digest("SHA-1", abc)), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(to_hex(sha_digest("SHA-1", "")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(to_hex(sha_digest("SHA-1", m448)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(to_hex(sha_digest("SHA-256", abc)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha_digest("SHA-256", "")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha_digest("SHA-256", m448)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      to_hex(sha_digest("SHA-384", abc)),
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca1"
      "34c825a7");
  EXPECT_EQ(
      to_hex(sha_digest("SHA-384", m896)),
      "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa"
      "91746039");
  EXPECT_EQ(
      to_hex(sha_digest("SHA-512", abc)),
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
      "a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(
      to_hex(sha_digest("SHA-512", "")),
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2"
      "877eec2f63b931bd47417a81a538327af927da3e");
  EXPECT_EQ(
      to_hex(sha_digest("SHA-512", m896)),
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99de"
      "c4b5433ac7d329eeb6dd26545e96e55b874be909");
  // One million 'a' (many blocks).
  EXPECT_EQ(to_hex(sha_digest("SHA-1", std::string(1000000, 'a'))),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  EXPECT_EQ(to_hex(sha_digest("SHA-256", std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary (55, 56, 63, 64 bytes for SHA-256; 111, 112 for SHA-512)
  // must differ from each other and be stable; check two known ones.
  EXPECT_EQ(to_hex(sha_digest("SHA-256", std::string(55, 'a'))),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(to_hex(sha_digest("SHA-256", std::string(64, 'a'))),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(sha_digest("MD5", abc), "");
}

// ---- origins: wire format and host names -------------------------------------------------------

TEST(OriginWire, RoundTrips) {
  HttpRequest req;
  req.method = "POST";
  req.url = "https://api.test/x?y=1";
  req.headers = {{"content-type", "text/plain"}, {"x-empty", ""}};
  req.body = std::string("a\0b", 3);
  auto r = runtime::decode_request(runtime::encode_request(req));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, req.url);
  EXPECT_EQ(r->headers, req.headers);
  EXPECT_EQ(r->body, req.body);
  HttpResponse resp;
  resp.status = 418;
  resp.headers = {{"set-cookie", "a=1"}, {"set-cookie", "b=2"}};
  resp.body = "teapot";
  auto s = runtime::decode_response(runtime::encode_response(resp));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, 418);
  EXPECT_EQ(s->headers, resp.headers);
  EXPECT_EQ(s->body, "teapot");
  std::string cut = runtime::encode_response(resp);
  cut.pop_back();
  EXPECT_FALSE(runtime::decode_response(cut).ok());
  EXPECT_FALSE(runtime::decode_request("\xff\xff\xff\xff").ok());
}

TEST(OriginWire, UrlHost) {
  EXPECT_EQ(runtime::url_host("https://API.Example.com/x"), "api.example.com");
  EXPECT_EQ(runtime::url_host("http://u:p@a.test:8080?q"), "a.test");
  EXPECT_EQ(runtime::url_host("http://[::1]:80/"), "[::1]");
  EXPECT_EQ(runtime::url_host("no-scheme"), "");
}

// ---- the suite ---------------------------------------------------------------------------------

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> scripts() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(EDGESIM_CONFORMANCE_DIR)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".js") && !name.starts_with("_")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The origin Worker that echoes requests, for the fetch scripts.
const char kEchoOrigin[] = R"js(
export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/echo':
        return Response.json({method: request.method, url: request.url,
          headers: [...request.headers], body: await request.text()});
      case '/see-other':
        return Response.redirect('https://worker.test/echo', 303);
      case '/temporary':
        return Response.redirect('https://worker.test/echo', 307);
      case '/throw':
        throw new Error('origin worker broke');
      case '/stream': {
        let n = 0;
        return new Response(new ReadableStream({
          pull(c) { if (n < 3) c.enqueue(new TextEncoder().encode(`part${n++};`)); else c.close(); },
        }));
      }
    }
    return new Response('no such path', {status: 404});
  },
};
)js";

using Trace = runtime::testing::Trace;

struct SuiteRun {
  std::string output;  // the handler's lines, or "error ..."
  std::vector<std::string> trace;
};

// Runs one conformance script in a fresh world: a PoP with the script's Worker, a static origin
// (origin.test), a Worker origin (worker.test), a crashed one (down.test), a partitioned one
// (cut.test) and a client that sends one POST.
SuiteRun run_script(const std::string& file, std::uint64_t seed) {
  SuiteRun out;
  sim::World w(seed);
  Trace trace(&w);
  w.add_sink(&trace);
  sim::Node& pop = w.add_node("pop", "lhr");
  sim::Node& client = w.add_node("client", "lhr");
  sim::Node& origin_node = w.add_node("origin", "iad");
  sim::Node& worker_origin_node = w.add_node("worker-origin", "fra");
  sim::Node& down_node = w.add_node("down", "iad");
  sim::Node& cut_node = w.add_node("cut", "iad");
  w.start();

  std::vector<runtime::StaticRoute> routes;
  auto route = [&](std::string prefix, int status, HeaderList headers, std::string body,
                   sim::Duration delay = 0, std::string method = "") {
    runtime::StaticRoute r;
    r.path_prefix = std::move(prefix);
    r.method = std::move(method);
    r.response.status = status;
    r.response.headers = std::move(headers);
    r.response.body = std::move(body);
    r.delay = delay;
    routes.push_back(std::move(r));
  };
  const HeaderList text = {{"content-type", "text/plain;charset=UTF-8"}};
  route("/", 200,
        {{"content-type", "text/plain;charset=UTF-8"},
         {"x-origin", "static"},
         {"set-cookie", "a=1; Path=/"},
         {"set-cookie", "b=2; Path=/"}},
        "hello from origin");
  route("/json", 200, {{"content-type", "application/json"}}, R"({"a":1,"list":[1,2,3]})");
  route("/slow", 200, text, "slow", 2 * sim::kSecond);
  route("/redirect", 302, {{"location", "/json"}}, "");
  route("/redirect-abs", 301, {{"location", "https://worker.test/echo"}}, "");
  route("/loop", 302, {{"location", "/loop"}}, "");
  route("/nocontent", 204, {}, "");
  route("/missing", 404, text, "nope");
  route("/post-only", 201, text, "created", 0, "POST");
  auto origin = runtime::Origin::serve_static(w, origin_node, std::move(routes));
  auto down = runtime::Origin::serve_static(w, down_node, {});
  auto cut = runtime::Origin::serve_static(w, cut_node, {});
  runtime::WorkerConfig echo;
  echo.name = "echo";
  echo.modules = {{"index.js", kEchoOrigin}};
  echo.main = "index.js";
  auto worker_origin = runtime::Origin::serve_worker(w, worker_origin_node, echo);

  runtime::OriginsConfig origins_config;
  origins_config.timeout = 5 * sim::kSecond;
  runtime::Origins origins(w, origins_config);
  origins.add("origin.test", *origin);
  origins.add("worker.test", *worker_origin);
  origins.add("down.test", *down);
  origins.add("cut.test", *cut);
  w.crash(down_node);
  w.net().partition({pop.id()}, {cut_node.id()});

  runtime::WorkerConfig config;
  config.name = "conformance";
  config.modules = {
      {"_harness.js", read_file(std::filesystem::path(EDGESIM_CONFORMANCE_DIR) / "_harness.js")},
      {file, read_file(std::filesystem::path(EDGESIM_CONFORMANCE_DIR) / file)},
      {"index.js", "import './" + file + "';\nexport { default } from './_harness.js';\n"},
  };
  config.main = "index.js";
  config.origins = &origins;
  config.response_timeout = 3600 * sim::kSecond;
  config.isolate.cpu_max = 5 * sim::kSecond;  // generous: the suite is not about limits
  runtime::Worker worker(w, pop, config);

  w.spawn(client, "client", [&](sim::Task& task) {
    HttpRequest req;
    req.method = "POST";
    req.url = "https://conformance.test/run?file=" + file;
    req.headers = {{"Content-Type", "text/plain"}, {"X-Conformance", "yes"}};
    req.body = "request body from the client";
    auto r = worker.fetch(task, req);
    if (!r.ok()) {
      out.output = "error " + r.error().to_string();
    } else if (r->status != 200) {
      out.output = "error status " + std::to_string(r->status) + ": " + r->body;
    } else {
      out.output = r->body;
    }
  });
  w.run_until_idle(w.now() + 7200 * sim::kSecond);
  out.trace = std::move(trace.events);
  w.remove_sink(&trace);
  return out;
}

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { Engine::init(); }
};

TEST_P(Conformance, Script) {
  const std::string file = GetParam();
  const SuiteRun run = run_script(file, 1);
  ASSERT_FALSE(run.output.starts_with("error")) << file << ": " << run.output;
  std::istringstream lines(run.output);
  std::string line;
  int ok = 0;
  int cases = 0;
  while (std::getline(lines, line)) {
    ++cases;
    if (line.starts_with("ok ")) {
      ++ok;
    } else {
      ADD_FAILURE() << file << ": " << line;
    }
  }
  EXPECT_GT(cases, 0) << file << " has no cases";
  std::printf("[ conformance ] %s: %d/%d cases pass\n", file.c_str(), ok, cases);
}

INSTANTIATE_TEST_SUITE_P(Scripts, Conformance, ::testing::ValuesIn(scripts()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 3);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// Outbound fetches are trace events on the caller's node, with the origin and the outcome.
TEST(ConformanceSuite, FetchesAreTraced) {
  Engine::init();
  const SuiteRun run = run_script("fetch.js", 1);
  auto has = [&](std::string_view needle) {
    return std::any_of(run.trace.begin(), run.trace.end(),
                       [&](const std::string& e) { return e.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(
      has("fetch.start worker=conformance request=GET https://origin.test/hello origin=origin"));
  EXPECT_TRUE(
      has("fetch.done worker=conformance request=GET https://origin.test/hello status=200"));
  EXPECT_TRUE(has("fetch.start worker=conformance request=GET https://nowhere.test/ origin=none"));
  EXPECT_TRUE(
      has("fetch.done worker=conformance request=GET https://cut.test/ status=0 error=Network "
          "connection lost. (no response from cut.test within 5.000s)"));
}

// Results do not depend on the seed: timers, fetches and streams interleave differently (latency
// jitter, tie-breaks at one instant) but every case still passes.
TEST(ConformanceSuite, PassesUnderOtherSeeds) {
  Engine::init();
  for (std::uint64_t seed : {2, 3, 4}) {
    for (const std::string& file : scripts()) {
      const SuiteRun run = run_script(file, seed);
      std::istringstream lines(run.output);
      std::string line;
      while (std::getline(lines, line)) {
        if (!line.starts_with("ok "))
          ADD_FAILURE() << "seed " << seed << ": " << file << ": " << line;
      }
    }
  }
}

// The same seed gives the same results and the same trace, event for event (fetches, timers and
// streams included).
TEST(ConformanceSuite, DeterministicAcrossReruns) {
  Engine::init();
  std::size_t cases = 0;
  for (const std::string& file : scripts()) {
    const SuiteRun a = run_script(file, 7);
    const SuiteRun b = run_script(file, 7);
    EXPECT_EQ(a.output, b.output) << file;
    EXPECT_EQ(a.trace, b.trace) << file;
    cases += static_cast<std::size_t>(std::count(a.output.begin(), a.output.end(), '\n')) + 1;
  }
  EXPECT_GE(cases, 60u) << "the conformance suite should hold at least 60 cases";
}

}  // namespace
}  // namespace js
