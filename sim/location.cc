#include "sim/location.h"

#include <algorithm>
#include <cmath>

namespace sim {

const std::vector<Location>& known_locations() {
  // Airport coordinates, rounded. Regions follow the coarse groups edge platforms use.
  static const std::vector<Location> table = [] {
    std::vector<Location> t = {
        {"ams", "weur", 52.31, 4.76},   {"arn", "eeur", 59.65, 17.92},
        {"atl", "enam", 33.64, -84.43}, {"bom", "apac", 19.09, 72.87},
        {"cdg", "weur", 49.01, 2.55},   {"dfw", "enam", 32.90, -97.04},
        {"fra", "weur", 50.03, 8.57},   {"gru", "sam", -23.43, -46.47},
        {"hkg", "apac", 22.31, 113.92}, {"iad", "enam", 38.95, -77.46},
        {"jnb", "afr", -26.14, 28.25},  {"lax", "wnam", 33.94, -118.41},
        {"lhr", "weur", 51.47, -0.45},  {"mad", "weur", 40.47, -3.56},
        {"nrt", "apac", 35.77, 140.39}, {"ord", "enam", 41.97, -87.91},
        {"scl", "sam", -33.39, -70.79}, {"sea", "wnam", 47.45, -122.31},
        {"sin", "apac", 1.36, 103.99},  {"sjc", "wnam", 37.36, -121.93},
        {"syd", "oc", -33.95, 151.18},  {"waw", "eeur", 52.17, 20.97},
    };
    std::sort(t.begin(), t.end(),
              [](const Location& a, const Location& b) { return a.code < b.code; });
    return t;
  }();
  return table;
}

std::optional<Location> find_location(std::string_view code) {
  for (const auto& l : known_locations()) {
    if (l.code == code) return l;
  }
  return std::nullopt;
}

double distance_km(const Location& a, const Location& b) {
  constexpr double kEarthRadiusKm = 6371.0;
  constexpr double kRad = M_PI / 180.0;
  const double dlat = (b.lat - a.lat) * kRad;
  const double dlon = (b.lon - a.lon) * kRad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * kRad) * std::cos(b.lat * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

}  // namespace sim
