// Plain HTTP values that cross the JS boundary: what a client sends to a Worker and what the
// Worker answers. No V8 here; platform/js converts them to and from JS Request/Response objects
// (the Web APIs' value types belong to js/; runtime/ and above use them through runtime/http.h).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace js {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: "https://app.test/path?q=1"
  HeaderList headers;
  std::string body;  // bytes
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;  // names lower-case, in the order Headers iterates them
  std::string body;    // bytes
  // Set when the platform, not the Worker's code, produced this response: the Worker threw,
  // exceeded a limit, or failed to load. Empty for a response the Worker returned.
  std::string error;

  // The first value of a header (names compare lower-case), or "".
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < n.size() && same; ++i) {
        same = (n[i] | 0x20) == (name[i] | 0x20);
      }
      if (same) return v;
    }
    return "";
  }
};

}  // namespace js
