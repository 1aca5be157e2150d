// Where a node is. Latency between nodes grows with the great-circle distance of their locations.
// A small table of well-known edge locations (IATA codes) is built in; scenarios may add others.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

struct Location {
  std::string code;    // "lhr"
  std::string region;  // "weur", "enam", "apac", ...
  double lat = 0;
  double lon = 0;
};

// The built-in table, sorted by code.
const std::vector<Location>& known_locations();
std::optional<Location> find_location(std::string_view code);
double distance_km(const Location& a, const Location& b);

}  // namespace sim
