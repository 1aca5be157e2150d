// Internal to the scenario loader (loader*.cc): what its files share. Not part of the public API
// (see loader.h).
//
// loader.cc parses scenario.textproto and hands it to resolve() (loader_resolver.cc), which checks
// everything else. loader_text_errors.cc words the text parser's errors.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/repeated_ptr_field.h>
#include <google/protobuf/text_format.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scenarios/spec/loader.h"
#include "scenarios/spec/scenario.pb.h"
#include "scenarios/spec/spec.h"
#include "sim/result.h"
#include "sim/time.h"

namespace scenarios::spec::loader_internal {

namespace pb = edgesim::scenario;

// Limits beyond loader.h's, so that a typo ("clients: 1000000") fails at load, not in the run.
inline constexpr int kClientsMax = 10'000;
inline constexpr int kLoadsMax = 64;
inline constexpr int kRequestsPerLoadMax = 256;
inline constexpr int kWeightMax = 1'000'000;
inline constexpr double kRateMax = 1e6;
inline constexpr int kWorkersMax = 16;
inline constexpr int kNodesPerKindMax = 256;

sim::Error invalid(std::string message);
bool has_suffix(std::string_view s, std::string_view suffix);
// What the runtime loads as an ES module.
bool is_module_path(std::string_view path);

// Collects the text parser's errors as "file:line:column: message", 1-based, with protobuf's
// wording made plain (loader_text_errors.cc).
class TextErrors : public google::protobuf::io::ErrorCollector {
 public:
  TextErrors(std::string file, std::string_view text, std::vector<std::string>* out)
      : file_(std::move(file)), text_(text), out_(out) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override;
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

 private:
  static std::string plain(const std::string& message);
  int field_start(int line, int column, const std::string& message) const;

  std::string file_;
  std::string_view text_;
  std::vector<std::string>* out_;
};

// A place in the parsed text: a field (by path) and where it was written. A field that was not
// written takes its parent's place, so every message points somewhere near.
class Loc {
 public:
  Loc(const std::string* file, const google::protobuf::TextFormat::ParseInfoTree* tree,
      const google::protobuf::Descriptor* desc)
      : file_(file), tree_(tree), desc_(desc) {}

  // The field `name` (index: the element of a repeated field; -1 for a singular one).
  Loc operator()(std::string_view name, int index = -1) const;

  // "file:line:column", or the file alone when nothing above was written.
  std::string where() const;
  const std::string& path() const { return path_; }

 private:
  const std::string* file_;
  const google::protobuf::TextFormat::ParseInfoTree* tree_;
  const google::protobuf::Descriptor* desc_;
  std::string path_;
  int line_ = -1;
  int column_ = -1;
};

// The error lines of one load, in the order found, at most kScenarioErrorsMax of them.
class Errors {
 public:
  void add(std::string line);
  // "where: path: message".
  void at(const Loc& loc, const std::string& message);
  // Adds each line of a multi-line message.
  void add_lines(const std::string& message);
  bool ok() const { return lines_.empty(); }
  sim::Error error() const;

 private:
  std::vector<std::string> lines_;
  bool truncated_ = false;
};

// Builds a LoadedScenario from the parsed spec and the files, or the errors found
// (loader_resolver.cc).
sim::Result<LoadedScenario> resolve(const ScenarioFiles& files, std::string source,
                                    std::string variant, const pb::Scenario& spec,
                                    const google::protobuf::TextFormat::ParseInfoTree& tree);

}  // namespace scenarios::spec::loader_internal
