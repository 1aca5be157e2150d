// The D1 binding, C++ half (d1_binding.js is the JS half: env.DB with prepare, batch, exec and
// withSession, and sessions' getBookmark): the JS half sends the statements with their bound
// values as JSON (numbers, strings, null, and byte arrays for BLOBs, as the runtime sends them);
// the node's services::D1Client runs them; the answer comes back as JSON: per statement its
// columns, rows (INTEGER and REAL as numbers, TEXT as strings, BLOB as arrays of bytes, NULL as
// null), error and meta, and the serving node's bookmark.
#pragma once

#include <string>

#include "platform/bindings/binding_table.h"
#include "platform/services/d1/d1.h"

namespace bindings {

class D1Binding final : public Binding {
 public:
  // REQUIRES: `client` outlives the binding.
  D1Binding(std::string database, services::D1Client& client)
      : database_(std::move(database)), client_(client) {}
  std::string type() const override { return "d1"; }
  js::CallReply call(sim::Task& task, const js::CallRequest& request) override;

 private:
  std::string database_;
  services::D1Client& client_;
};

}  // namespace bindings
