#!/usr/bin/env bash
# A one-node Slurm on this machine, for make cluster-test (not a scheduler of our own: Debian's
# slurm-wlm and munge, started directly — there is no systemd to lean on).
#
#   scripts/slurm-local.sh start DIR   configure and start munged (unless one answers already),
#                                      slurmctld and slurmd with every state, spool, log and pid
#                                      file under DIR; returns once the node takes jobs
#   scripts/slurm-local.sh stop DIR    stop what `start` started, by the pids in DIR
#
# Client commands find the cluster through SLURM_CONF=DIR/slurm.conf (nothing is written to
# /etc/slurm). Needs root: the daemons run as root (SlurmUser=root) and munged as `munge`.
set -euo pipefail
action="${1:-}"; dir="${2:-}"
[ -n "$action" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 64; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
conf="$dir/slurm.conf"

# Kill the process whose pid a file holds, and wait for it to go (at most 10 s).
stop_pid() {
    local file="$1" pid
    [ -f "$file" ] || return 0
    pid="$(cat "$file")"
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

if [ "$action" = stop ]; then
    stop_pid "$dir/slurmd.pid"
    stop_pid "$dir/slurmctld.pid"
    stop_pid "$dir/munged.pid"      # only there when start launched munged
    exit 0
fi
[ "$action" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 64; }
[ "$(id -u)" = 0 ] || { echo "slurm-local: the daemons need root" >&2; exit 77; }

# munge: a key, its folders owned by the munge user, the daemon run as that user.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        head -c 1024 /dev/urandom > /etc/munge/munge.key
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
    cp /run/munge/munged.pid "$dir/munged.pid"
    munge -n | unmunge >/dev/null || { echo "slurm-local: munged does not answer" >&2; exit 1; }
fi

host="$(hostname -s)"
cpus="$(nproc)"
# RealMemory below the machine's (MiB), so a job's --mem is checked against something true.
mem=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
mkdir -p "$dir/state" "$dir/spool"
cat > "$conf" <<EOF
ClusterName=astrotool
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerParameters=sched_interval=2,defer_batch
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$conf"
# -c: start from a clean state (no jobs left from an earlier run in DIR).
slurmctld -c -f "$conf"
slurmd -f "$conf"
# The node takes jobs when sinfo says idle (or mixed); give it 30 s.
for _ in $(seq 150); do
    state="$(sinfo -h -N -o %t 2>/dev/null | head -1)"
    case "$state" in idle|mix|mixed) echo "slurm-local: node $host up ($cpus CPUs, $mem MiB), SLURM_CONF=$conf"; exit 0 ;; esac
    sleep 0.2
done
echo "slurm-local: the node did not come up (state '${state:-none}'); see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
