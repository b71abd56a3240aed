#!/usr/bin/env bash
# Runs every test: unit, integration (real PostgreSQL and RabbitMQ) and end to end (the whole AppHost).
# Fails when a test fails or when no test ran.
set -euo pipefail
cd "$(dirname "$0")"
source eng/prerequisites.sh
te_require_dotnet
te_ensure_servers local
dotnet build TradeEngine.Services.sln -c Release -warnaserror
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# A test that hangs fails the run (with the name of the test) instead of eating CI's time.
dotnet test TradeEngine.Services.sln -c Release --no-build --blame-hang-timeout 10m "$@" 2>&1 | tee "$log" || status=$?
# One closing line over every test assembly: "N passed, N failed".
read -r passed failed skipped < <(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  /^(Passed|Failed|Skipped)!/ { for (i = 1; i <= NF; i++) { v = $(i+1); gsub(/,/, "", v)
      if ($i == "Passed:") p += v; if ($i == "Failed:") f += v; if ($i == "Skipped:") s += v } }
  END { printf "%d %d %d\n", p, f, s }')
# Every test project reports its own summary line: one that found no test (a discovery or adapter failure) prints none,
# and would otherwise pass unnoticed beside the others. Checked on a whole run (a filter may leave a project nothing).
reported=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -cE '^(Passed|Failed|Skipped)!' || true)
projects=$(find tests -mindepth 2 -maxdepth 2 -name '*.Tests.csproj' | wc -l)
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped (${reported} of ${projects} test projects reported)"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
if [ "$passed" -eq 0 ]; then echo "No test ran." >&2; exit 1; fi
if [ "$#" -eq 0 ] && [ "$reported" -ne "$projects" ]; then
  echo "Only ${reported} of ${projects} test projects reported a result: a project ran no test." >&2; exit 1
fi
if [ "$skipped" -ne 0 ]; then echo "Skipped tests are not allowed: a missing dependency must fail the suite." >&2; exit 1; fi
