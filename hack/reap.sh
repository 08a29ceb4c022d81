#!/usr/bin/env bash
# Usage: hack/reap.sh PIDS_FILE
#
# The end-to-end suite records each process it starts as "PID STARTTIME NAME"
# in PIDS_FILE (STARTTIME is field 22 of /proc/PID/stat) and stops them all.
# This checks that none survived the suite: any that did is killed and
# reported, and the script fails. A pid whose start time differs belongs to a
# later process, and is left alone.
set -euo pipefail
file=$1
[[ -f $file ]] || exit 0
left=0
while read -r pid start name; do
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
  fields=(${stat##*) })
  [[ ${fields[19]} == "$start" ]] || continue
  echo "reap: $name (pid $pid) survived the suite; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
  left=1
done <"$file"
exit "$left"
