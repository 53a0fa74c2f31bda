#!/usr/bin/env bash
# Quick start, step 2: build, check formatting, and run every test project.
# Ends with one line "N passed, M failed" (summed over all test projects).
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed_steps=0

if ! dotnet build Lotse.slnx -c Release --nologo -v quiet --no-restore >"$log" 2>&1; then
  cat "$log"
  echo "test: the build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

if ! dotnet format Lotse.slnx --verify-no-changes --no-restore -v quiet; then
  echo "test: dotnet format found unformatted code (run: dotnet format Lotse.slnx)"
  failed_steps=1
fi

dotnet test Lotse.slnx -c Release --no-build --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

read -r passed failed < <(awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") { gsub(",", "", $(i+1)); f += $(i+1) }
      if ($i == "Passed:") { gsub(",", "", $(i+1)); p += $(i+1) }
    }
  }
  END { print p + 0, f + 0 }' "$log")

failed=$((failed + failed_steps))
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
  failed=1 # the runner failed without reporting a failed test (crash, time-out)
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
