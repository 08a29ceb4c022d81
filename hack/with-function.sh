#!/usr/bin/env bash
# Usage: hack/with-function.sh FUNCTION_BINARY PORT -- COMMAND [ARGS...]
#
# Starts the function insecurely on 127.0.0.1:PORT, waits until it accepts
# connections, runs COMMAND, and stops the function again, whatever happens.
# COMMAND's exit code is the script's.
set -euo pipefail

fn=$1 port=$2
shift 2
[[ ${1:-} == -- ]] && shift

if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
  echo "with-function: something already listens on 127.0.0.1:${port}; stop it or set FUNCTION_PORT" >&2
  exit 1
fi

log=$(mktemp)
"$fn" --insecure --debug --address "127.0.0.1:${port}" --metrics-address="" >"$log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    "$@"
    exit $?
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-function: the function exited at start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "with-function: the function did not listen on 127.0.0.1:${port} within 10s" >&2
cat "$log" >&2
exit 1
