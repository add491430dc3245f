#!/usr/bin/env bash
# Re-pin the lockfiles after changing dependencies in pyproject.toml or requirements/*.in.
# Needs uv (pip install uv). The README's commands install from these files with plain pip.
# Pins already in a lockfile are kept where they still fit (uv prefers the versions it finds in
# the output file); delete a line to let that package move.
set -euo pipefail
cd "$(dirname "$0")/.."
for name in dev demo docs; do
  extras="--extra emulator --extra emulator-asr --extra cli"
  # The site alone (mkdocs.yml): the SDK's own dependencies (the hooks import soniox.errors) and
  # the docs extra.
  [ "$name" = docs ] && extras="--extra docs"
  # The test suite and the benchmarks also need the observability extras, the bench tools, and
  # what the examples it runs use (a microphone library, FastAPI).
  [ "$name" = dev ] && extras="$extras --extra prometheus --extra otel --extra bench --extra mic --extra relay --extra redis --extra distributed --extra docs"
  args="pyproject.toml requirements/$name.in $extras --python-version 3.11 --generate-hashes"
  uv pip compile $args --no-header -q -o "requirements/$name.txt"
  { echo "# Pinned with hashes by: uv pip compile $args -o requirements/$name.txt"
    cat "requirements/$name.txt"; } > "requirements/$name.txt.new"
  mv "requirements/$name.txt.new" "requirements/$name.txt"
done
