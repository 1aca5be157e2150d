// The queue service's messages on the wire (queue_internal.h), written with sim/wire.h. Every
// reader checks that the whole message was read: a malformed message is an error, never a guess.
#include <utility>

#include "platform/services/queues/queue_internal.h"

namespace services::queue_internal {

namespace {

constexpr std::uint32_t kItemsMax = 10000;  // far above any batch: a bound for hostile counts

sim::Error malformed(const char* what) {
  return sim::Error{sim::ErrorKind::kInvalid, std::string("malformed queue ") + what};
}

bool valid_type(std::uint8_t t) { return t <= static_cast<std::uint8_t>(QueueContentType::kV8); }

}  // namespace

std::string encode(const SendRequest& r) {
  sim::WireWriter w;
  w.str(r.queue).str(r.dead_lettered_from).u32(static_cast<std::uint32_t>(r.items.size()));
  for (const SendItem& i : r.items) {
    w.str(i.id).i64(i.timestamp).u8(static_cast<std::uint8_t>(i.type)).str(i.body);
    w.boolean(i.delay.has_value()).i64(i.delay.value_or(0));
  }
  return w.take();
}

sim::Result<SendRequest> decode_send(std::string_view bytes) {
  sim::WireReader r(bytes);
  SendRequest out;
  out.queue = r.str();
  out.dead_lettered_from = r.str();
  const std::uint32_t n = r.u32();
  if (!r.ok() || n > kItemsMax) return malformed("send");
  for (std::uint32_t k = 0; k < n && r.ok(); ++k) {
    SendItem i;
    i.id = r.str();
    i.timestamp = r.i64();
    const std::uint8_t type = r.u8();
    if (!valid_type(type)) return malformed("send (content type)");
    i.type = static_cast<QueueContentType>(type);
    i.body = r.str();
    const bool has_delay = r.boolean();
    const sim::Duration delay = r.i64();
    if (has_delay) i.delay = delay;
    out.items.push_back(std::move(i));
  }
  if (!r.done()) return malformed("send");
  return out;
}

std::string encode(const QueueMetrics& m) {
  sim::WireWriter w;
  w.u64(m.backlog_count).u64(m.backlog_bytes);
  w.boolean(m.oldest_message_timestamp.has_value()).i64(m.oldest_message_timestamp.value_or(0));
  return w.take();
}

sim::Result<QueueMetrics> decode_metrics(std::string_view bytes) {
  sim::WireReader r(bytes);
  QueueMetrics m;
  m.backlog_count = r.u64();
  m.backlog_bytes = r.u64();
  const bool has_oldest = r.boolean();
  const sim::Time oldest = r.i64();
  if (has_oldest) m.oldest_message_timestamp = oldest;
  if (!r.done()) return malformed("send reply");
  return m;
}

std::string encode(const DeliverRequest& d) {
  sim::WireWriter w;
  w.str(d.queue).u64(d.batch).u32(static_cast<std::uint32_t>(d.messages.size()));
  for (const QueueMessage& m : d.messages) {
    w.str(m.id).i64(m.timestamp).u8(static_cast<std::uint8_t>(m.content_type)).str(m.body);
    w.u32(m.attempts);
  }
  return w.take();
}

sim::Result<DeliverRequest> decode_deliver(std::string_view bytes) {
  sim::WireReader r(bytes);
  DeliverRequest out;
  out.queue = r.str();
  out.batch = r.u64();
  const std::uint32_t n = r.u32();
  if (!r.ok() || n > kItemsMax) return malformed("batch");
  for (std::uint32_t k = 0; k < n && r.ok(); ++k) {
    QueueMessage m;
    m.id = r.str();
    m.timestamp = r.i64();
    const std::uint8_t type = r.u8();
    if (!valid_type(type)) return malformed("batch (content type)");
    m.content_type = static_cast<QueueContentType>(type);
    m.body = r.str();
    m.attempts = r.u32();
    out.messages.push_back(std::move(m));
  }
  if (!r.done()) return malformed("batch");
  return out;
}

std::string encode(const QueueBatchResult& res) {
  sim::WireWriter w;
  w.boolean(res.ok).str(res.error).u32(static_cast<std::uint32_t>(res.outcomes.size()));
  for (const QueueMessageOutcome& o : res.outcomes) {
    w.str(o.id).boolean(o.ack).boolean(o.retry_delay.has_value()).i64(o.retry_delay.value_or(0));
  }
  return w.take();
}

sim::Result<QueueBatchResult> decode_result(std::string_view bytes) {
  sim::WireReader r(bytes);
  QueueBatchResult out;
  out.ok = r.boolean();
  out.error = r.str();
  const std::uint32_t n = r.u32();
  if (!r.ok() || n > kItemsMax) return malformed("batch result");
  for (std::uint32_t k = 0; k < n && r.ok(); ++k) {
    QueueMessageOutcome o;
    o.id = r.str();
    o.ack = r.boolean();
    const bool has_delay = r.boolean();
    const sim::Duration delay = r.i64();
    if (has_delay) o.retry_delay = delay;
    out.outcomes.push_back(std::move(o));
  }
  if (!r.done()) return malformed("batch result");
  return out;
}

}  // namespace services::queue_internal
