#!/usr/bin/env bash
# Stop the one-node cluster started by scripts/slurm/start.sh: its slurmd and slurmctld,
# found by the pid files in $VOXSEG_SLURM_DIR (never by name, so another Slurm on the
# machine is left alone). munged is left running (other software may use it).
# Idempotent: nothing running is not an error.
set -uo pipefail
DIR="${VOXSEG_SLURM_DIR:-/tmp/voxseg-slurm}"
stopped=""
for d in slurmd slurmctld; do
  pidfile="$DIR/$d.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile" 2>/dev/null)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q "$d" "/proc/$pid/comm" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    stopped="$stopped $d"
  fi
  rm -f "$pidfile"
done
if [ -n "$stopped" ]; then echo "slurm/stop.sh: stopped$stopped ($DIR)"; else echo "slurm/stop.sh: nothing was running ($DIR)"; fi
