// Loading a scenario folder: scenario.textproto (schema: scenario.proto), the wrangler files it
// names, and every source file, into a LoadedScenario (spec.h).
//
// Errors are values (sim::ErrorKind::kInvalid) whose message names the file, line and column and
// says what is wrong, one problem a line:
//   scenarios/x/scenario.textproto:12:5: unknown field "durattion" (did you mean "duration"?)
//   scenarios/x/scenario.textproto:20:7: topology.pop[1].location: unknown location "lhx" (...)
//   scenarios/x/wrangler.jsonc:7:9: durable_objects.bindings[0]: unknown key "clas_name" (...)
//
// A loaded scenario carries every file's bytes (`files`), so it can be rebuilt without the folder:
// a trace stores `files` and `variant`, and load_scenario_files() on them gives an equal value.
// serialize_scenario() / deserialize_scenario() do the same through one byte string.
//
// Reads the file system only in load_scenario_folder() and load_scenario(); the rest is pure.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "scenarios/spec/spec.h"
#include "sim/result.h"

namespace scenarios::spec {

// Limits on what a folder may hold (a trace record holds the whole scenario, at most 64 MiB).
inline constexpr std::size_t kFileBytesMax = 8 << 20;
inline constexpr std::size_t kScenarioBytesMax = 32 << 20;
inline constexpr std::size_t kScenarioFilesMax = 2048;
inline constexpr int kScenarioErrorsMax = 20;

// The spec file at the root of every scenario folder.
inline constexpr std::string_view kSpecFile = "scenario.textproto";

// Splits a CLI argument "FOLDER@VARIANT" at its last '@' after the last '/':
//   "scenarios/suite/do-counter@kv-counter" -> {"scenarios/suite/do-counter", "kv-counter"}
//   "scenarios/suite/do-counter"            -> {"scenarios/suite/do-counter", ""}
std::pair<std::string, std::string> split_variant(std::string_view arg);

// Reads the folder's files (collect_files) and loads them. `variant` empty: the scenario as
// written; else the named variant (an error lists the declared ones when it is not found).
sim::Result<LoadedScenario> load_scenario_folder(const std::filesystem::path& dir,
                                                 std::string_view variant = "");
// load_scenario_folder() of split_variant(arg).
sim::Result<LoadedScenario> load_scenario(std::string_view arg);

// Loads from files already read (e.g. from a trace header). `source` is how messages name the
// folder ("" names files by their relative paths alone).
sim::Result<LoadedScenario> load_scenario_files(const ScenarioFiles& files,
                                                std::string_view variant = "",
                                                std::string_view source = "");

// The files of a folder that belong to the scenario: scenario.textproto, every .js .mjs .txt
// .html .bin .json .jsonc .sql file below it (skipping node_modules and hidden directories), and
// any other file the spec names (a fault schedule, an origin's body_file). Errors name the file.
sim::Result<ScenarioFiles> collect_files(const std::filesystem::path& dir);

// A stable 16-hex-digit fingerprint of the files (paths and bytes): equal files, equal prints.
std::string fingerprint_files(const ScenarioFiles& files);

// One byte string holding the files, the variant and the source (an edgesim.scenario.Bundle),
// deterministic for equal scenarios; deserialize_scenario() loads it again.
std::string serialize_scenario(const LoadedScenario& scenario);
sim::Result<LoadedScenario> deserialize_scenario(std::string_view bytes);

}  // namespace scenarios::spec
