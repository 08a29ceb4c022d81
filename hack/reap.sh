#!/usr/bin/env bash
# Usage: hack/reap.sh PIDS_FILE
#
# The end-to-end suite records each process it starts as "PID NAME" in
# PIDS_FILE and stops them all. This checks that none survived the suite;
# any that did is killed and reported, and the script fails.
set -euo pipefail
file=$1
[[ -f $file ]] || exit 0
left=0
while read -r pid name; do
  if kill -0 "$pid" 2>/dev/null && [[ $(cat "/proc/$pid/comm" 2>/dev/null) != "" ]]; then
    # A pid may have been reused: only reap a process of the suite's binaries.
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -e "$(dirname "$file")" -e '/bin/' ; then
      echo "reap: $name (pid $pid) survived the suite; killing it" >&2
      kill -9 "$pid" 2>/dev/null || true
      left=1
    fi
  fi
done <"$file"
exit "$left"
