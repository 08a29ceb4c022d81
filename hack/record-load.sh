#!/usr/bin/env bash
# Adds the tables of a benchmark run (make e2e-load, make e2e-upgrade) to the committed
# results file, newest first, under a heading that dates the run and names
# the commit, the machine and the parameters.
# Usage: hack/record-load.sh TABLES RESULTS PARAMETERS COMMIT
# (COMMIT: what the run started from, as the Makefile read it before it.)
set -euo pipefail
tables=$1 results=$2 parameters=$3 commit=$4
memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)

section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
  echo "## $(date -u +%Y-%m-%d) at $commit"
  echo
  echo "Machine: $(nproc) cores ($cpu), $memory, Linux $(uname -r), $(go version | cut -d' ' -f3)."
  echo "Parameters: \`$parameters\`."
  cat "$tables"
} >"$section"

# The file's introduction is everything before its first dated section.
intro=$(awk '/^## [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/ {exit} {print}' "$results")
rest=$(awk 'found || /^## [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/ {found = 1; print}' "$results")
{
  printf '%s\n\n' "$intro"
  cat "$section"
  [[ -z $rest ]] || printf '\n%s\n' "$rest"
} >"$results.new"
mv "$results.new" "$results"
echo "added the run of $commit to $results"
