#!/usr/bin/env python3
"""Checks the project's own docs (run by ctest as `docs`).

- Every relative link in a tracked Markdown file resolves to a file or folder inside the
  repository; no link climbs out of it (the docs are read from a clone, alone).
- docs/events.md names every event kind of the registry (the Body oneof in sim/events.proto).

Usage: docs_check.py REPO
"""
import os
import re
import subprocess
import sys

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def tracked_markdown(repo):
    out = subprocess.check_output(["git", "ls-files", "*.md"], cwd=repo, text=True)
    return [p for p in out.split() if p]


def check_links(repo, problems):
    root = os.path.realpath(repo)
    for md in tracked_markdown(repo):
        text = open(os.path.join(repo, md), encoding="utf-8").read()
        for lineno, line in enumerate(text.split("\n"), 1):
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                    if target.startswith(("http:", "https:")):
                        problems.append(f"{md}:{lineno}: links outside the repository: {target}")
                    continue
                path = target.split("#")[0]
                full = os.path.realpath(os.path.join(repo, os.path.dirname(md), path))
                if not (full == root or full.startswith(root + os.sep)):
                    problems.append(f"{md}:{lineno}: link leaves the repository: {target}")
                elif not os.path.exists(full):
                    problems.append(f"{md}:{lineno}: broken link: {target}")
        if "../shared/" in text:
            problems.append(f"{md}: points outside the repository (../shared/)")


def event_kinds(repo):
    proto = open(os.path.join(repo, "sim/events.proto"), encoding="utf-8").read()
    body = proto[proto.index("message Body {"):]
    kinds = []
    for field in re.findall(r"^\s+\w+ (\w+) = \d+;", body, re.M):
        kinds.append(field.replace("_", ".", 1))
    return kinds


def check_events(repo, problems):
    doc = open(os.path.join(repo, "docs/events.md"), encoding="utf-8").read()
    kinds = event_kinds(repo)
    if len(kinds) < 10:
        problems.append("sim/events.proto: could not read the Body oneof")
    for kind in kinds:
        if f"`{kind}`" not in doc:
            problems.append(f"docs/events.md: event kind `{kind}` is not described")


def main():
    repo = sys.argv[1]
    problems = []
    check_links(repo, problems)
    check_events(repo, problems)
    for p in problems:
        print(p)
    if problems:
        return 1
    print("docs check: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
