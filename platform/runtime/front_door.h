// runtime::FrontDoor: a PoP's HTTP front door. It serves HTTP on the PoP's node (the origin
// protocol, kOriginService, so clients and other Workers reach a PoP the way they reach an
// origin) and hands each request to the Worker whose route matches the URL's host, else to the
// default Worker: the first hop of every request into the platform.
//
// HTTP runs over a connection: a datagram the network duplicated is not a second request.
// Single-threaded; the Pop and the node outlive the front door.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "platform/runtime/pop.h"

namespace runtime {

class FrontDoor {
 public:
  // routes: hostname (lower case, no port) -> Worker name. REQUIRES: the Pop has every Worker
  // named, and `default_worker`.
  FrontDoor(Pop& pop, std::map<std::string, std::string> routes, std::string default_worker);

  // Serves HTTP on the PoP's node until it crashes: call it from the node's boot function.
  void serve();
  // The Worker that serves `url`.
  const std::string& worker_for(std::string_view url) const;

 private:
  Pop& pop_;
  std::map<std::string, std::string, std::less<>> routes_;
  std::string default_worker_;
};

}  // namespace runtime
