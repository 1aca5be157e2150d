// http_load: a small HTTP/1.1 load generator for bench/workerd_compare.sh. Keep-alive
// connections, one request in flight on each, for a bounded time and a bounded request count;
// loopback targets only. Prints one line: requests, seconds, requests/s, latency percentiles.
//
//   http_load --port 8787 [--connections 32] [--seconds 10] [--requests-max 5000000] [--path /]
//
// Not part of edgesim: a bench tool, like wrk (which this machine does not have).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string in;
  Clock::time_point sent;
  std::size_t sent_bytes = 0;
};

// The length of one complete response at the start of `in` (Content-Length bodies only), or 0.
std::size_t response_length(const std::string& in) {
  const std::size_t head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  std::size_t body = 0;
  for (std::size_t pos = in.find("\r\n"); pos < head_end; pos = in.find("\r\n", pos + 2)) {
    const std::size_t line = pos + 2;
    if (strncasecmp(in.c_str() + line, "content-length:", 15) == 0) {
      body = std::strtoull(in.c_str() + line + 15, nullptr, 10);
    }
  }
  return in.size() >= head_end + 4 + body ? head_end + 4 + body : 0;
}

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only, by construction
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, connections = 32;
  double seconds = 10;
  long long requests_max = 5'000'000;
  std::string path = "/";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--port")
      port = std::atoi(argv[i + 1]);
    else if (k == "--connections")
      connections = std::atoi(argv[i + 1]);
    else if (k == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (k == "--requests-max")
      requests_max = std::atoll(argv[i + 1]);
    else if (k == "--path")
      path = argv[i + 1];
    else {
      std::fprintf(stderr, "http_load: unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  // Bounds: whatever the flags say, the run stops by itself.
  seconds = std::clamp(seconds, 0.1, 120.0);
  connections = std::clamp(connections, 1, 1024);
  requests_max = std::clamp(requests_max, 1LL, 50'000'000LL);
  if (port <= 0) {
    std::fprintf(stderr, "usage: http_load --port N [--connections C] [--seconds S]\n");
    return 2;
  }
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";

  const int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<std::size_t>(connections));
  std::vector<double> latency_us;
  latency_us.reserve(1 << 20);
  long long sent = 0, done = 0, errors = 0;
  auto send_one = [&](Conn& c) {
    if (sent >= requests_max) return;
    c.sent = Clock::now();
    const ssize_t n = write(c.fd, request.data(), request.size());
    if (n != static_cast<ssize_t>(request.size())) {
      ++errors;
      return;
    }
    ++sent;
  };
  for (std::size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = connect_to(port);
    if (conns[i].fd < 0) {
      std::fprintf(stderr, "http_load: cannot connect to 127.0.0.1:%d\n", port);
      return 1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  for (auto& c : conns) send_one(c);
  std::vector<epoll_event> events(conns.size());
  char buf[65536];
  while (Clock::now() < deadline && done < requests_max) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[static_cast<std::size_t>(e)].data.u64];
      for (;;) {
        const ssize_t r = read(c.fd, buf, sizeof buf);
        if (r <= 0) break;
        c.in.append(buf, static_cast<std::size_t>(r));
      }
      for (std::size_t len; (len = response_length(c.in)) != 0;) {
        if (c.in.compare(0, 12, "HTTP/1.1 200") != 0) ++errors;
        c.in.erase(0, len);
        ++done;
        latency_us.push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - c.sent).count());
        send_one(c);
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& c : conns) close(c.fd);
  close(ep);
  std::sort(latency_us.begin(), latency_us.end());
  auto pct = [&](double p) {
    return latency_us.empty() ? 0.0
                              : latency_us[static_cast<std::size_t>(p * (latency_us.size() - 1))];
  };
  std::printf(
      "requests=%lld seconds=%.2f requests_per_s=%.0f errors=%lld connections=%d "
      "latency_us_p50=%.0f p99=%.0f\n",
      done, elapsed, done / elapsed, errors, connections, pct(0.5), pct(0.99));
  return errors == 0 ? 0 : 1;
}
