#!/usr/bin/env bash
# Stops the Slurm that start-local-slurm.sh started from STATE_DIR (by the pids it wrote) and removes the folder.
#   build/slurm/stop-local-slurm.sh [STATE_DIR]     (default: ${TMPDIR:-/tmp}/pisa-slurm)
set -uo pipefail
state=$(realpath -m "${1:-${TMPDIR:-/tmp}/pisa-slurm}")
[ -d "$state" ] || exit 0
pids=()
for name in slurmd slurmctld munged; do
  if [ -f "$state/$name.pid" ]; then
    pid=$(cat "$state/$name.pid")
    kill "$pid" 2>/dev/null && pids+=("$pid")
  fi
done
for _ in $(seq 1 50); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.2
done
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
[ -f "$state/slurm.conf" ] && rm -rf "$state"
exit 0
