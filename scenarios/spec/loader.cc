// The loader's entry points (loader.h): reading a folder's files (collect_files), parsing
// scenario.textproto and handing it to the resolver (loader_resolver.cc, which checks everything
// else), splitting "FOLDER@VARIANT", fingerprints and bundles. The only file of the loader that
// touches the file system.

#include "scenarios/spec/loader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "scenarios/spec/loader_internal.h"
#include "scenarios/spec/scenario.pb.h"
#include "scenarios/spec/util.h"
#include "sim/rng.h"

namespace scenarios::spec {
namespace {

namespace pb = edgesim::scenario;
using google::protobuf::TextFormat;
using loader_internal::has_suffix;
using loader_internal::invalid;
using loader_internal::TextErrors;

constexpr std::uint32_t kBundleFormatVersion = 1;

const std::vector<std::string> kLoadedExtensions = {".js",  ".mjs",  ".txt",   ".html",
                                                    ".bin", ".json", ".jsonc", ".sql"};

bool loaded_by_extension(const std::string& rel) {
  if (rel == kSpecFile) return true;
  return std::any_of(kLoadedExtensions.begin(), kLoadedExtensions.end(),
                     [&](const std::string& ext) { return has_suffix(rel, ext); });
}

sim::Result<std::string> read_file(const std::filesystem::path& path, const std::string& shown) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return invalid(shown + ": cannot read: " + ec.message());
  if (size > kFileBytesMax) {
    return invalid(shown + ": larger than " + std::to_string(kFileBytesMax >> 20) + " MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid(shown + ": cannot open");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uintmax_t>(in.gcount()) != size) return invalid(shown + ": short read");
  return bytes;
}

std::string folder_display(const std::filesystem::path& dir) {
  std::string s = dir.generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Reads files of one folder into a ScenarioFiles, within the limits on their number and size.
class FolderReader {
 public:
  FolderReader(std::filesystem::path dir, std::string shown)
      : dir_(std::move(dir)), shown_(std::move(shown)) {}

  // Reads `rel` unless it was read already. It must be a regular file inside the folder once
  // links and ".." are resolved: a scenario never reads (and a trace never stores) a host file.
  sim::Status add(const std::string& rel) {
    if (files_.count(rel) > 0) return sim::Status::Ok();
    if (sim::Status inside = check_inside(rel); !inside.ok()) return inside;
    auto bytes = read_file(dir_ / rel, shown_ + "/" + rel);
    if (!bytes.ok()) return bytes.error();
    total_ += bytes->size();
    if (total_ > kScenarioBytesMax) {
      return invalid(shown_ + ": the scenario's files exceed " +
                     std::to_string(kScenarioBytesMax >> 20) + " MiB");
    }
    if (files_.size() >= kScenarioFilesMax) {
      return invalid(shown_ + ": more than " + std::to_string(kScenarioFilesMax) + " files");
    }
    files_.emplace(rel, std::move(bytes).value());
    return sim::Status::Ok();
  }
  bool has(const std::string& rel) const { return files_.count(rel) > 0; }
  const ScenarioFiles& files() const { return files_; }
  ScenarioFiles release() { return std::move(files_); }

 private:
  sim::Status check_inside(const std::string& rel) const {
    const std::string shown = shown_ + "/" + rel;
    std::error_code ec;
    const std::filesystem::path root = std::filesystem::canonical(dir_, ec);
    if (ec) return invalid(shown_ + ": cannot read: " + ec.message());
    const std::filesystem::path real = std::filesystem::canonical(dir_ / rel, ec);
    if (ec) return invalid(shown + ": cannot read: " + ec.message());
    auto [r, f] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
    if (r != root.end()) {
      return invalid(shown +
                     ": leaves the scenario folder (through a link or '..'); a scenario "
                     "reads only its own files");
    }
    if (!std::filesystem::is_regular_file(real, ec)) {
      return invalid(shown + ": not a regular file");
    }
    return sim::Status::Ok();
  }

  const std::filesystem::path dir_;
  const std::string shown_;
  ScenarioFiles files_;
  std::size_t total_ = 0;
};

// The folder's files loaded by their extension, sorted, so that which limit trips (if any) does
// not depend on the order the file system lists them in.
sim::Result<std::vector<std::string>> files_by_extension(const std::filesystem::path& dir,
                                                         const std::string& shown) {
  std::error_code ec;
  std::vector<std::string> found;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  if (ec) return invalid(shown + ": cannot list: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return invalid(shown + ": cannot list: " + ec.message());
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name == "node_modules" || (!name.empty() && name[0] == '.'))
        it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = std::filesystem::relative(it->path(), dir, ec).generic_string();
    if (ec) return invalid(shown + ": cannot list: " + ec.message());
    if (loaded_by_extension(rel)) found.push_back(rel);
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Files the spec names that the extension rule may have missed, as written. None when the spec
// does not parse: the loader reports that, not collect_files().
std::vector<std::string> referenced_files(const std::string& spec_text) {
  pb::Scenario spec;
  TextFormat::Parser parser;
  std::vector<std::string> ignored;
  TextErrors quiet("", spec_text, &ignored);
  parser.RecordErrorsTo(&quiet);
  std::vector<std::string> out;
  if (!parser.ParseFromString(spec_text, &spec)) return out;
  auto faults = [&](const pb::Faults& f) {
    if (f.plan_case() == pb::Faults::kScheduleFile) out.push_back(f.schedule_file());
  };
  faults(spec.faults());
  for (const auto& v : spec.variant()) faults(v.faults());
  for (const auto& o : spec.topology().origin()) {
    for (const auto& r : o.response()) {
      if (!r.body_file().empty()) out.push_back(r.body_file());
    }
  }
  return out;
}

// Files as a trace or a bundle may hold them: paths normalized and printable, within the limits.
sim::Status check_file_map(const ScenarioFiles& files, const std::string& src) {
  std::size_t total = 0;
  for (const auto& [path, bytes] : files) {
    const auto norm = normalize_path("", path);
    const bool printable = std::none_of(path.begin(), path.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (!norm || *norm != path || !is_utf8(path) || !printable) {
      return invalid((src.empty() ? std::string("scenario") : src) + ": bad file path " +
                     quote(path) + " (relative, '/'-separated, normalized, UTF-8)");
    }
    total += bytes.size();
  }
  if (files.size() > kScenarioFilesMax || total > kScenarioBytesMax) {
    return invalid((src.empty() ? std::string("scenario") : src) + ": too many or too large files");
  }
  return sim::Status::Ok();
}

}  // namespace

std::pair<std::string, std::string> split_variant(std::string_view arg) {
  const std::size_t at = arg.rfind('@');
  const std::size_t slash = arg.rfind('/');
  if (at == std::string_view::npos || (slash != std::string_view::npos && at < slash)) {
    return {std::string(arg), ""};
  }
  return {std::string(arg.substr(0, at)), std::string(arg.substr(at + 1))};
}

sim::Result<ScenarioFiles> collect_files(const std::filesystem::path& dir) {
  const std::string shown = folder_display(dir);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return invalid(shown + ": not a scenario folder (no such directory)");
  }
  if (!std::filesystem::exists(dir / std::string(kSpecFile), ec)) {
    return invalid(shown + "/" + std::string(kSpecFile) +
                   ": missing (a scenario folder holds scenario.textproto, wrangler.jsonc and the "
                   "Worker's sources)");
  }
  FolderReader reader(dir, shown);
  auto found = files_by_extension(dir, shown);
  if (!found.ok()) return found.error();
  for (const auto& rel : *found) {
    if (auto s = reader.add(rel); !s.ok()) return s.error();
  }
  // Listed above unless it is a link (the listing skips links); read it in any case.
  if (auto s = reader.add(std::string(kSpecFile)); !s.ok()) return s.error();
  for (const auto& ref : referenced_files(reader.files().at(std::string(kSpecFile)))) {
    const auto rel = normalize_path("", ref);
    if (!rel || reader.has(*rel)) continue;
    if (!std::filesystem::is_regular_file(dir / *rel, ec)) continue;  // the loader says so
    if (auto s = reader.add(*rel); !s.ok()) return s.error();
  }
  return reader.release();
}

sim::Result<LoadedScenario> load_scenario_files(const ScenarioFiles& files,
                                                std::string_view variant, std::string_view source) {
  const std::string src(source);
  if (auto s = check_file_map(files, src); !s.ok()) return s.error();
  const std::string spec_name(kSpecFile);
  const std::string shown = src.empty() ? spec_name : src + "/" + spec_name;
  auto spec_it = files.find(spec_name);
  if (spec_it == files.end()) {
    return invalid(shown +
                   ": missing (a scenario folder holds scenario.textproto, "
                   "wrangler.jsonc and the Worker's sources)");
  }
  pb::Scenario spec;
  TextFormat::ParseInfoTree tree;
  std::vector<std::string> parse_errors;
  TextErrors collector(shown, spec_it->second, &parse_errors);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&tree);
  parser.SetRecursionLimit(32);
  if (!parser.ParseFromString(spec_it->second, &spec)) {
    if (parse_errors.empty()) parse_errors.push_back(shown + ": cannot parse");
    parse_errors.resize(std::min<std::size_t>(parse_errors.size(), kScenarioErrorsMax));
    return invalid(join(parse_errors, "\n"));
  }
  return loader_internal::resolve(files, src, std::string(variant), spec, tree);
}

sim::Result<LoadedScenario> load_scenario_folder(const std::filesystem::path& dir,
                                                 std::string_view variant) {
  auto files = collect_files(dir);
  if (!files.ok()) return files.error();
  return load_scenario_files(*files, variant, folder_display(dir));
}

sim::Result<LoadedScenario> load_scenario(std::string_view arg) {
  auto [dir, variant] = split_variant(arg);
  return load_scenario_folder(dir, variant);
}

std::string fingerprint_files(const ScenarioFiles& files) {
  // Length-prefixed paths and contents, so that no two different maps encode alike.
  std::string canon;
  for (const auto& [path, bytes] : files) {
    canon += std::to_string(path.size()) + ":" + path + std::to_string(bytes.size()) + ":";
    canon += bytes;
  }
  const std::uint64_t a = sim::stable_hash(canon);
  const std::uint64_t b = sim::mix64(a ^ sim::stable_hash(std::to_string(canon.size())));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(a ^ (b >> 1)));
  return buf;
}

std::string serialize_scenario(const LoadedScenario& scenario) {
  pb::Bundle bundle;
  bundle.set_format_version(kBundleFormatVersion);
  bundle.set_source(scenario.source);
  bundle.set_variant(scenario.variant);
  for (const auto& [path, bytes] : scenario.files) (*bundle.mutable_files())[path] = bytes;
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  bundle.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

sim::Result<LoadedScenario> deserialize_scenario(std::string_view bytes) {
  pb::Bundle bundle;
  if (!bundle.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("scenario bundle: not a valid edgesim.scenario.Bundle");
  }
  if (bundle.format_version() != kBundleFormatVersion) {
    return invalid("scenario bundle: format version " + std::to_string(bundle.format_version()) +
                   " (this build reads " + std::to_string(kBundleFormatVersion) + ")");
  }
  ScenarioFiles files(bundle.files().begin(), bundle.files().end());
  return load_scenario_files(files, bundle.variant(), bundle.source());
}

}  // namespace scenarios::spec
