// TextErrors: the protobuf text parser's errors about scenario.textproto, reworded the way the
// rest of the loader words its messages ("unknown field "durattion" (did you mean ...?)") and
// pointed at the field name rather than at the token after it.

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/util.h"

namespace scenarios::spec::loader_internal {
namespace {

std::vector<std::string> field_names(const google::protobuf::Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->name());
  return names;
}

}  // namespace

void TextErrors::AddError(int line, google::protobuf::io::ColumnNumber column,
                          const std::string& message) {
  std::string where = file_;
  if (line >= 0) {
    column = field_start(line, column, message);
    where += ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1);
  }
  out_->push_back(where + ": " + plain(message));
}

std::string TextErrors::plain(const std::string& message) {
  // Message type "edgesim.scenario.Node" has no field named "locaton".
  const std::string kType = "Message type \"";
  const std::string kField = "\" has no field named \"";
  if (message.rfind(kType, 0) == 0) {
    const std::size_t mid = message.find(kField);
    const std::size_t end = message.rfind('"');
    if (mid != std::string::npos && end > mid + kField.size()) {
      const std::string type = message.substr(kType.size(), mid - kType.size());
      const std::string field = message.substr(mid + kField.size(), end - mid - kField.size());
      const google::protobuf::Descriptor* d =
          google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
      if (d != nullptr) {
        const std::vector<std::string> names = field_names(d);
        std::string hint = did_you_mean(field, names);
        if (hint.empty()) hint = " (" + d->name() + " has: " + join(names) + ")";
        return "unknown field " + quote(field) + hint;
      }
      return "unknown field " + quote(field);
    }
  }
  std::string out = message;
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// Protobuf reports errors about a field name at the token after it (the ':' or '{'). When a
// name quoted in the message ends just before that column, point at the name instead.
int TextErrors::field_start(int line, int column, const std::string& message) const {
  std::size_t start = 0;
  for (int i = 0; i < line; ++i) {
    start = text_.find('\n', start);
    if (start == std::string_view::npos) return column;
    ++start;
  }
  std::size_t end = start + static_cast<std::size_t>(column);
  if (end > text_.size()) return column;
  while (end > start && (text_[end - 1] == ' ' || text_[end - 1] == '\t')) --end;
  for (std::size_t open = message.find('"'); open != std::string::npos;) {
    const std::size_t close = message.find('"', open + 1);
    if (close == std::string::npos) break;
    const std::string name = message.substr(open + 1, close - open - 1);
    if (!name.empty() && end >= start + name.size() &&
        text_.substr(end - name.size(), name.size()) == name) {
      return static_cast<int>(end - name.size() - start);
    }
    open = message.find('"', close + 1);
  }
  return column;
}

}  // namespace scenarios::spec::loader_internal
