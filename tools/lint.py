#!/usr/bin/env python3
"""edgesim lint: determinism bans and layering (docs/design.md, "Layers" and "Determinism").

Checks, over the source tree:
  1. No nondeterminism sources in sim/ and platform/ (non-test code): host clocks, rand(),
     random_device, threads, the environment. A line may opt out with `// lint: allow-<rule>`
     and a reason nearby (only the V8 CPU watchdog does).
  2. Includes point one way: sim <- traces <- platform <- props <- scenarios <- tools.
     tests/ and bench/ may include anything. Inside platform/ the same holds for its folders
     (platform/README.md, "Layers"): services/<name> (V8-free) includes only itself; then
     js <- runtime <- objects <- bindings <- deployment (files at platform/'s top), and objects/
     and bindings/ may include services/.
  3. Only platform/js/ includes V8 headers.
  4. In platform/ (non-test code), no V8 Maybe is asserted on: `.Check()`, `ToLocalChecked()`,
     `FromJust()`, `ToChecked()` abort the process when user JS empties the Maybe (a throwing
     setter, a terminated run). Handle the empty case; `// lint: allow-v8-checked` marks a line
     where no JS can run (creating a native function before any Worker code, say).
  5. Every .cc file of a library folder is named in a CMakeLists.txt at or above its folder
     (explicit lists, no globs).
Exit 0 when clean, 1 with one line per finding (file:line: rule: text).
`lint.py --self-test` plants a violation of each rule in a scratch tree and checks it is found.
"""
import os
import re
import sys
import tempfile

LAYERS = ["sim", "traces", "platform", "props", "scenarios", "tools"]
FREE = {"tests", "bench"}
BANS = [
    ("wall-clock", re.compile(r"std::chrono::(system_clock|steady_clock|high_resolution_clock)|"
                              r"\bgettimeofday\s*\(|\bclock_gettime\s*\(|\btime\s*\(\s*(NULL|nullptr|0)\s*\)")),
    ("rand", re.compile(r"(?<![\w.>:])s?rand\s*\(|\brandom_device\b|\bdrand48\b")),
    ("thread", re.compile(r"std::(thread|jthread|async)\b|#include\s*<(thread|future)>|\bpthread_create\b")),
    ("environment", re.compile(r"\b(secure_)?getenv\s*\(|\benviron\b")),
    ("unordered-iteration", re.compile(r"for\s*\([^;]*:\s*\w*unordered_\w+")),
]
V8_CHECKED = re.compile(r"\.Check\(\)|\bToLocalChecked\(\)|\bFromJust\(\)|\bToChecked\(\)")
# Names declared with an unordered container type, whose iteration order must not leak.
UNORDERED_DECL = re.compile(r"unordered_(?:map|set|multimap|multiset)\s*<.*>\s*&?\s*(\w+)\s*[;{=(),]")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
V8_HEADER = re.compile(r"^(v8\.h|v8-[\w-]+\.h|libplatform/)")
# Inside platform/: what each folder may include of platform/ (besides the layers below it).
PLATFORM_ORDER = ["js", "runtime", "objects", "bindings"]
PLATFORM_USES_SERVICES = {"objects", "bindings"}


def platform_part(rel):
    """The platform folder of a path under platform/: 'js', 'runtime', ..., 'services/kv', or
    'deployment' for files at platform/'s top."""
    parts = rel.split("/")
    if len(parts) < 2 or parts[0] != "platform":
        return None
    if len(parts) == 2:
        return "deployment"
    if parts[1] == "services":
        return "services/" + parts[2] if len(parts) > 3 else "services"
    return parts[1]


def platform_allows(src, dst):
    """May platform folder `src` include from platform folder `dst`?"""
    if src == dst or src == "deployment":
        return True
    if src.startswith("services"):
        return False  # a service is V8-free and stands alone
    if dst.startswith("services"):
        return src in PLATFORM_USES_SERVICES
    if dst == "deployment" or dst not in PLATFORM_ORDER or src not in PLATFORM_ORDER:
        return False
    return PLATFORM_ORDER.index(dst) < PLATFORM_ORDER.index(src)


def source_files(root):
    for top in LAYERS + sorted(FREE):
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for f in sorted(filenames):
                if f.endswith((".cc", ".h", ".cpp", ".hpp")):
                    yield top, os.path.join(dirpath, f)


def lint(root):
    findings = []
    cmake_text = {}
    for top, path in source_files(root):
        rel = os.path.relpath(path, root)
        is_test = rel.endswith("_test.cc") or top in FREE
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError as e:
            findings.append(f"{rel}:0: unreadable: {e}")
            continue
        unordered = set()
        for line in lines:
            for m in UNORDERED_DECL.finditer(line.split("//", 1)[0]):
                unordered.add(m.group(1))
        iterate = (re.compile(r"for\s*\([^;]*:\s*(" + "|".join(sorted(unordered)) + r")\s*\)|\b(" +
                              "|".join(sorted(unordered)) + r")\s*\.\s*c?begin\s*\(")
                   if unordered else None)
        for no, line in enumerate(lines, 1):
            code = line.split("//", 1)[0]
            if (iterate is not None and top in ("sim", "platform") and not is_test and
                    iterate.search(code) and "lint: allow-unordered-iteration" not in line):
                findings.append(f"{rel}:{no}: unordered-iteration: {line.strip()}")
            if (top == "platform" and not is_test and V8_CHECKED.search(code) and
                    "lint: allow-v8-checked" not in line):
                findings.append(f"{rel}:{no}: v8-checked: {line.strip()}")
            if top in ("sim", "platform") and not is_test:
                for rule, rx in BANS:
                    if rx.search(code) and f"lint: allow-{rule}" not in line:
                        findings.append(f"{rel}:{no}: {rule}: {line.strip()}")
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            first = inc.split("/", 1)[0]
            if top not in FREE and first in LAYERS and "/" in inc:
                if LAYERS.index(first) > LAYERS.index(top):
                    findings.append(f"{rel}:{no}: layering: {top}/ may not include {inc}")
            if top == "platform" and not is_test and first == "platform":
                src, dst = platform_part(rel), platform_part(inc)
                if src and dst and not platform_allows(src, dst):
                    findings.append(f"{rel}:{no}: layering: platform/{src}/ may not include {inc}")
            if V8_HEADER.match(inc) and not rel.startswith(os.path.join("platform", "js") + os.sep):
                findings.append(f"{rel}:{no}: v8-boundary: only platform/js/ includes {inc}")
        if path.endswith(".cc") and top not in FREE | {"tools"}:
            # Some CMakeLists.txt at or above the file, within its top folder, names it.
            d = os.path.dirname(path)
            listed = False
            while True:
                cm = os.path.join(d, "CMakeLists.txt")
                if cm not in cmake_text:
                    cmake_text[cm] = open(cm).read() if os.path.exists(cm) else ""
                name = os.path.relpath(path, d)
                if re.search(r"(^|[\s(/])" + re.escape(name) + r"(\s|\)|$)", cmake_text[cm], re.M):
                    listed = True
                    break
                if os.path.normpath(d) == os.path.normpath(os.path.join(root, top)):
                    break
                d = os.path.dirname(d)
            top_cm = os.path.join(root, "CMakeLists.txt")
            if not listed and os.path.exists(top_cm):
                # The top level may list a file that every build needs (platform/defaults.cc).
                listed = re.search(r"(^|[\s(/])" + re.escape(rel) + r"(\s|\)|$)",
                                   open(top_cm).read(), re.M) is not None
            if not listed:
                findings.append(f"{rel}:1: cmake: not listed in a CMakeLists.txt at or above it")
    return findings


def self_test():
    planted = {
        "sim/a.cc": "#include <chrono>\nauto t = std::chrono::system_clock::now();\n",
        "sim/b.cc": "int x = rand();\n",
        "platform/c.cc": "#include <thread>\n",
        "platform/d.cc": 'const char* e = getenv("HOME");\n',
        "sim/e.cc": '#include "platform/js/engine.h"\n',
        "scenarios/f.cc": "#include <v8.h>\n",
        "sim/g.cc": "void f(std::unordered_map<int,int>& m) { for (auto& kv : m) {} }\n",
        "traces/orphan.cc": "int orphan;\n",
        "platform/js/h.cc": '#include "platform/runtime/worker.h"\n',
        "platform/services/kv/i.cc": '#include "platform/js/isolate.h"\n',
        "platform/js/j.cc": "void f() { obj->Set(context, k, v).Check(); }\n",
    }
    expected = ["wall-clock", "rand", "thread", "environment", "layering", "v8-boundary",
                "unordered-iteration", "cmake", "v8-checked"]
    with tempfile.TemporaryDirectory() as root:
        for top in LAYERS:
            os.makedirs(os.path.join(root, top), exist_ok=True)
            listed = " ".join(os.path.relpath(p, top) for p in planted
                              if p.startswith(top + "/") and "orphan" not in p)
            open(os.path.join(root, top, "CMakeLists.txt"), "w").write(f"add_library(x {listed})\n")
        for p, text in planted.items():
            os.makedirs(os.path.dirname(os.path.join(root, p)), exist_ok=True)
            open(os.path.join(root, p), "w").write(text)
        ok_file = os.path.join(root, "sim", "fine.cc")
        open(ok_file, "w").write("int fine = 1;  // nothing to see\n")
        with open(os.path.join(root, "sim", "CMakeLists.txt"), "a") as f:
            f.write("# fine.cc\n")
        found = lint(root)
        missing = [r for r in expected if not any(f": {r}:" in f for f in found)]
        for planted_inner in ("platform/js/h.cc", "platform/services/kv/i.cc"):
            if not any(f.startswith(planted_inner) and ": layering:" in f for f in found):
                missing.append("platform layering in " + planted_inner)
        false_pos = [f for f in found if "fine.cc" in f]
        if missing or false_pos:
            print("lint self-test FAILED; missed:", missing, "false positives:", false_pos)
            for f in found:
                print("  ", f)
            return 1
    print(f"lint self-test ok: all {len(expected)} planted violations found")
    return 0


def main():
    if "--self-test" in sys.argv:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    findings = lint(os.path.abspath(root))
    for f in findings:
        print(f)
    if findings:
        print(f"lint: {len(findings)} finding(s)")
        return 1
    print("lint: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
