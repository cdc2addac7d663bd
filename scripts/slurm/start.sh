#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine, for the Slurm test suite and local trials.
#
# Works without systemd (containers, CI): munged and the two Slurm daemons are started
# directly. Idempotent: when the cluster in $VOXSEG_SLURM_DIR already answers, it only says so.
# Must run as root (the daemons run as root; SlurmUser=root). Prints, as its last line,
#   export SLURM_CONF=<dir>/slurm.conf
# so `eval "$(scripts/slurm/start.sh | tail -n1)"` points the Slurm commands at it.
#
# Exit status: 0 the cluster is up (node idle); 1 it could not start (one line on stderr
# saying why; the logs are in $VOXSEG_SLURM_DIR/log).
#
# Environment: VOXSEG_SLURM_DIR (default /tmp/voxseg-slurm) holds slurm.conf, spool, logs.
set -uo pipefail

DIR="${VOXSEG_SLURM_DIR:-/tmp/voxseg-slurm}"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"

fail() { echo "slurm/start.sh: $*" >&2; exit 1; }

for bin in munged slurmctld slurmd sinfo sbatch scontrol; do
  command -v "$bin" >/dev/null 2>&1 || fail "$bin not found: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || fail "must run as root (the one-node cluster runs its daemons as root)"

node_state() { sinfo -h -o %T 2>/dev/null | head -n1; }

if [ -f "$CONF" ] && [[ "$(node_state)" =~ ^(idle|mixed|allocated) ]]; then
  echo "slurm/start.sh: the cluster in $DIR is already up (node $(node_state))"
  echo "export SLURM_CONF=$CONF"
  exit 0
fi

# munge: a key owned by munge, mode 0400; /run/munge owned by munge; munged as munge.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1 || true; fi
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key && chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- munged --force >/dev/null 2>&1 || fail "munged did not start (see /var/log/munge/munged.log)"
  for _ in $(seq 1 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 || fail "munged started but does not answer (see /var/log/munge/munged.log)"
fi

# A daemon left from an earlier start with another config would hold the ports: stop ours.
if [ -f "$DIR/slurmctld.pid" ] || [ -f "$DIR/slurmd.pid" ]; then "$(dirname "$0")/stop.sh" >/dev/null 2>&1 || true; fi

mkdir -p "$DIR/spool/ctld" "$DIR/spool/d" "$DIR/log" "$DIR/state"
NODE_LINE="$(slurmd -C 2>/dev/null | head -n1)"
[[ "$NODE_LINE" == NodeName=* ]] || fail "slurmd -C did not describe this node (got: ${NODE_LINE:-nothing})"
NODE_NAME="$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<<"$NODE_LINE")"
HOST="$(hostname -s)"
# slurmctld must find itself: SlurmctldHost is this host's short name, NodeName slurmd's view.
cat >"$CONF" <<CONF
# One-node cluster written by scripts/slurm/start.sh (voxseg's Slurm tests). Not for production.
ClusterName=voxseg
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# A requeued job waits cred_expire + 1 s before it may start again (the default 120 s would
# make the time-limit requeue test wait two minutes).
AuthInfo=cred_expire=10
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to scontrol for 10 minutes (there is no accounting database).
MinJobAge=600
JobRequeue=1
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=10
Waittime=0
$NODE_LINE State=UNKNOWN
PartitionName=debug Nodes=$NODE_NAME Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

slurmctld -i >>"$DIR/log/start.log" 2>&1 || fail "slurmctld did not start (see $DIR/log/slurmctld.log)"
slurmd >>"$DIR/log/start.log" 2>&1 || fail "slurmd did not start (see $DIR/log/slurmd.log)"

state=""
for _ in $(seq 1 60); do
  state="$(node_state)"
  [[ "$state" =~ ^(idle|mixed|allocated) ]] && break
  [[ "$state" =~ ^(down|drain) ]] && scontrol update NodeName="$NODE_NAME" State=RESUME >/dev/null 2>&1
  sleep 0.5
done
[[ "$state" =~ ^(idle|mixed|allocated) ]] || fail "node $NODE_NAME did not become idle within 30 s (state: ${state:-no answer}; see $DIR/log/slurmctld.log and slurmd.log)"
echo "slurm/start.sh: one-node cluster up in $DIR (node $NODE_NAME $state)"
echo "export SLURM_CONF=$CONF"
