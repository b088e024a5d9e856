#!/usr/bin/env bash
# Stops the Spark Connect server that start.sh STATE_DIR started, and removes STATE_DIR.
#
#   scripts/spark/stop.sh STATE_DIR
set -euo pipefail

state=${1:?usage: stop.sh STATE_DIR}
[[ -d $state ]] || exit 0
if [[ -f $state/pid ]]; then
  pid=$(cat "$state/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
fi
rm -rf "$state"
