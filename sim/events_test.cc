#include "sim/events.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <set>

namespace sim {
namespace {

namespace pb = ::google::protobuf;

TEST(Events, EveryKindHasAUniqueDottedName) {
  std::set<std::string_view> seen;
  const std::vector<std::string_view> kinds = event_kinds();
  EXPECT_GT(kinds.size(), 60u);
  for (std::string_view k : kinds) {
    EXPECT_NE(k.find('.'), std::string_view::npos) << k;
    EXPECT_TRUE(seen.insert(k).second) << k;
    const int c = event_kind_case(k);
    EXPECT_GT(c, 0) << k;
    EXPECT_EQ(event_kind_name(c), k);
  }
  EXPECT_EQ(event_kind_case("no.such_kind"), 0);
  EXPECT_EQ(event_kind_name(0), "");
  EXPECT_EQ(event_kind_name(100000), "");
}

// The running hash covers serialized bodies: they must serialize deterministically, which map
// fields would break. Walks every message the registry reaches.
TEST(Events, TheRegistryHasNoMapFields) {
  std::set<const pb::Descriptor*> seen;
  std::vector<const pb::Descriptor*> todo = {ev::Body::descriptor()};
  while (!todo.empty()) {
    const pb::Descriptor* d = todo.back();
    todo.pop_back();
    if (!seen.insert(d).second) continue;
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      EXPECT_FALSE(f->is_map()) << d->full_name() << "." << f->name();
      if (f->message_type() != nullptr) todo.push_back(f->message_type());
    }
  }
  EXPECT_GT(seen.size(), 40u);
}

TEST(Events, DetailsPrintNodesTimesDurationsAndSkipEmptyText) {
  ev::Body b;
  auto& e = *b.mutable_do_commit();
  e.set_object("Counter/ab");
  e.set_host(3);
  e.set_instance(7);
  e.set_epoch(2);
  e.set_seq(0);
  e.set_sent(1'500'000'000);
  e.set_bytes(40);
  EXPECT_EQ(event_kind(b), "do.commit");
  EXPECT_EQ(event_details(b, [](NodeId id) { return id == 3 ? "host-3" : ""; }),
            "object=Counter/ab host=host-3 instance=7 epoch=2 seq=0 sent=1.500000s bytes=40");
  e.set_alarm(2'000'000'000);
  EXPECT_NE(event_details(b).find("host=node 3"), std::string::npos);
  EXPECT_NE(event_details(b).find("alarm=2.000000s"), std::string::npos);

  ev::Body c;
  c.mutable_net_clog()->set_extra(250'000'000);
  EXPECT_EQ(event_details(c), "extra=250.000ms length=0ns");

  ev::Body s;
  s.mutable_op_complete()->set_status(ev::OP_UNKNOWN);
  s.mutable_op_complete()->set_output(std::string("a\n\x01", 3));
  EXPECT_EQ(event_details(s), "op=0 status=unknown output=a\\n\\x01");

  ev::Body p;
  p.mutable_net_partition()->add_a(0);
  p.mutable_net_partition()->add_b(1);
  p.mutable_net_partition()->add_b(2);
  EXPECT_EQ(event_details(p), "a={node 0} b={node 1,node 2}");
}

}  // namespace
}  // namespace sim
