#include "sim/events.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <cstdio>
#include <map>

namespace sim {

namespace {

namespace pb = ::google::protobuf;

struct KindTable {
  std::vector<std::string> by_case;  // index: field number
  std::map<std::string, int, std::less<>> by_name;
};

const KindTable& kinds() {
  static const KindTable table = [] {
    KindTable t;
    const pb::OneofDescriptor* oneof = ev::Body::descriptor()->FindOneofByName("kind");
    int max = 0;
    for (int i = 0; i < oneof->field_count(); ++i) max = std::max(max, oneof->field(i)->number());
    t.by_case.resize(static_cast<std::size_t>(max) + 1);
    for (int i = 0; i < oneof->field_count(); ++i) {
      const pb::FieldDescriptor* f = oneof->field(i);
      std::string name = f->name();
      const std::size_t us = name.find('_');
      if (us != std::string::npos) name[us] = '.';
      t.by_case[static_cast<std::size_t>(f->number())] = name;
      t.by_name.emplace(name, f->number());
    }
    return t;
  }();
  return table;
}

std::string escaped(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string node_text(NodeId id, const NodeNamer& names) {
  if (id == kNoNode) return "none";
  if (names) {
    std::string n = names(id);
    if (!n.empty()) return n;
  }
  return "node " + std::to_string(id);
}

std::string scalar_text(const pb::Message& m, const pb::Reflection& r, const pb::FieldDescriptor* f,
                        int index, const NodeNamer& names) {
  const bool rep = f->is_repeated();
  const pb::FieldOptions& o = f->options();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      const std::int32_t v = rep ? r.GetRepeatedInt32(m, f, index) : r.GetInt32(m, f);
      return o.GetExtension(ev::node) ? node_text(v, names) : std::to_string(v);
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      const std::int64_t v = rep ? r.GetRepeatedInt64(m, f, index) : r.GetInt64(m, f);
      if (o.GetExtension(ev::time)) return format_time(v);
      if (o.GetExtension(ev::duration)) return format_duration(v);
      return std::to_string(v);
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(rep ? r.GetRepeatedUInt32(m, f, index) : r.GetUInt32(m, f));
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(rep ? r.GetRepeatedUInt64(m, f, index) : r.GetUInt64(m, f));
    case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g",
                    rep ? r.GetRepeatedDouble(m, f, index) : r.GetDouble(m, f));
      return buf;
    }
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      return std::to_string(rep ? r.GetRepeatedFloat(m, f, index) : r.GetFloat(m, f));
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r.GetRepeatedBool(m, f, index) : r.GetBool(m, f)) ? "true" : "false";
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      // OP_UNKNOWN prints as "unknown": the value's name without its prefix, lower case.
      std::string name = (rep ? r.GetRepeatedEnum(m, f, index) : r.GetEnum(m, f))->name();
      const std::size_t us = name.find('_');
      if (us != std::string::npos) name = name.substr(us + 1);
      for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      return name;
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& v = rep ? r.GetRepeatedStringReference(m, f, index, &scratch)
                                 : r.GetStringReference(m, f, &scratch);
      return escaped(v);
    }
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return "{...}";
  }
  return "";
}

// Whether a singular field is worth printing (see event_details()).
bool shown(const pb::Message& m, const pb::Reflection& r, const pb::FieldDescriptor* f) {
  if (f->has_presence()) return r.HasField(m, f);
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return r.GetBool(m, f);
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      return !r.GetStringReference(m, f, &scratch).empty();
    }
    default:
      return true;
  }
}

}  // namespace

std::string_view event_kind_name(int kind_case) {
  const KindTable& t = kinds();
  if (kind_case <= 0 || static_cast<std::size_t>(kind_case) >= t.by_case.size()) return {};
  return t.by_case[static_cast<std::size_t>(kind_case)];
}

std::string_view event_kind(const ev::Body& body) { return event_kind_name(body.kind_case()); }

int event_kind_case(std::string_view kind) {
  const KindTable& t = kinds();
  auto it = t.by_name.find(kind);
  return it == t.by_name.end() ? 0 : it->second;
}

std::vector<std::string_view> event_kinds() {
  std::vector<std::string_view> out;
  for (const std::string& k : kinds().by_case) {
    if (!k.empty()) out.push_back(k);
  }
  return out;
}

std::string event_details(const ev::Body& body, const NodeNamer& names) {
  const pb::FieldDescriptor* which = ev::Body::descriptor()->FindFieldByNumber(body.kind_case());
  if (which == nullptr) return {};
  const pb::Message& m = body.GetReflection()->GetMessage(body, which);
  const pb::Reflection& r = *m.GetReflection();
  const pb::Descriptor& d = *m.GetDescriptor();
  std::string out;
  for (int i = 0; i < d.field_count(); ++i) {
    const pb::FieldDescriptor* f = d.field(i);
    std::string value;
    if (f->is_repeated()) {
      const int n = r.FieldSize(m, f);
      value = "{";
      for (int k = 0; k < n; ++k) value += (k ? "," : "") + scalar_text(m, r, f, k, names);
      value += "}";
    } else {
      if (!shown(m, r, f)) continue;
      value = scalar_text(m, r, f, 0, names);
    }
    if (!out.empty()) out.push_back(' ');
    out += f->name();
    out.push_back('=');
    out += value;
  }
  return out;
}

}  // namespace sim
