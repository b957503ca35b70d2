#!/usr/bin/env bash
# Start (or stop) a single-node SLURM cluster inside this container, no systemd.
#   tools/slurm_local.sh [start] [STATE_DIR]   # default STATE_DIR=/var/tmp/slurm-local
#   tools/slurm_local.sh stop [STATE_DIR]
#   tools/slurm_local.sh status [STATE_DIR]
# Env: SLURM_LOCAL_NO_INSTALL=1 skips apt-get; SLURM_LOCAL_TIMEOUT (s, default 60).
# Everything it writes is under STATE_DIR (config, munge key/socket/seed, pid files, logs, spool):
# nothing in /etc, /run or /var/lib. Client tools find the cluster through SLURM_CONF; a job's
# nested srun does not see it (snakemake-executor-plugin-slurm-jobstep drops SLURM_* but job IDs),
# so STATE_DIR/bin holds the client tools with SLURM_CONF set. In the shell that runs sinfo/sbatch
# or Snakemake (jobs inherit PATH: sbatch --export=ALL):
#   export PATH=STATE_DIR/bin:$PATH SLURM_CONF=STATE_DIR/etc/slurm.conf   (printed at the end)
set -euo pipefail

cmd=start
case "${1:-}" in start|stop|status) cmd=$1; shift ;; esac
STATE=${1:-/var/tmp/slurm-local}
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
CONF=$STATE/etc/slurm.conf
MUNGE=$STATE/munge              # key, socket and seed of our own munged
SOCKET=$MUNGE/munge.socket.2
NODE=$(hostname -s)
log() { echo "[slurm_local] $*"; }

# Zombies count as dead: PID 1 in a container often does not reap daemons.
pid_alive() {
  local pid st
  pid=$(cat "$1" 2>/dev/null) || return 1
  st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}

stop_daemons() {
  local name pidf pid
  for name in slurmd slurmctld munged; do
    pidf=$STATE/run/$name.pid
    if pid_alive "$pidf"; then
      pid=$(cat "$pidf"); kill "$pid" && log "stopped $name (pid $pid)"
      for _ in $(seq 50); do pid_alive "$pidf" || break; sleep 0.1; done
    fi
    rm -f "$pidf"
  done
}

# stop leaves STATE (key, spool, logs) for the next start; nothing outside it was touched.
if [[ $cmd == stop ]]; then stop_daemons; exit 0; fi
if [[ $cmd == status ]]; then
  export SLURM_CONF=$CONF
  sinfo -h -o '%N %P %T %c %m' && exit 0 || exit 1
fi

# --- 1. packages ------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [[ ${SLURM_LOCAL_NO_INSTALL:-0} == 1 ]]; then
    echo "slurmctld/munged missing and SLURM_LOCAL_NO_INSTALL=1" >&2; exit 1
  fi
  log "installing slurm-wlm munge via apt-get"
  export DEBIAN_FRONTEND=noninteractive
  # Lock timeout: other sessions may be running apt-get concurrently.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq slurm-wlm munge >/dev/null
fi

# --- 2. config --------------------------------------------------------------
mkdir -p "$STATE"/{etc,run,log,spool/ctld,spool/d}
CPUS=$(nproc)
# RealMemory must not exceed what slurmd detects, so stay a bit below MemTotal.
MEM_MB=$(awk '/MemTotal/ {printf "%d", $2/1024*0.95}' /proc/meminfo)
cat > "$CONF.new" <<EOF
ClusterName=local
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Node definition below is authoritative (container CPU topology may differ).
SlurmdParameters=config_overrides
ReturnToService=2
# squeue keeps finished jobs this long; the Snakemake plugin's squeue status
# mode needs >= 3 * init_seconds_before_status_checks.
MinJobAge=600
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
if ! cmp -s "$CONF.new" "$CONF" 2>/dev/null; then
  mv "$CONF.new" "$CONF"; CONF_CHANGED=1; log "wrote $CONF"
else
  rm "$CONF.new"; CONF_CHANGED=0
fi
export SLURM_CONF=$CONF   # for the client tools below; /etc/slurm is never written
# Client tools that set SLURM_CONF themselves, for a PATH that reaches into jobs.
mkdir -p "$STATE/bin"
for tool in sbatch srun salloc squeue sinfo scancel scontrol sacct; do
  real=$(PATH=${PATH//$STATE\/bin:/} command -v "$tool") || continue
  printf '#!/bin/bash\nSLURM_CONF=%q exec %q "$@"\n' "$CONF" "$real" > "$STATE/bin/$tool"
  chmod 0755 "$STATE/bin/$tool"
done

# --- 3. munge ---------------------------------------------------------------
mkdir -p "$MUNGE"
chmod 0700 "$MUNGE"
if [[ ! -s $MUNGE/munge.key ]]; then
  (umask 077; dd if=/dev/urandom of="$MUNGE/munge.key" bs=1024 count=1 status=none)
  log "created $MUNGE/munge.key"
fi
chmod 0400 "$MUNGE/munge.key"
if ! pid_alive "$STATE/run/munged.pid"; then
  # --force: munged otherwise refuses root-owned dirs / running as root.
  munged --force --key-file="$MUNGE/munge.key" --socket="$SOCKET" \
    --seed-file="$MUNGE/munged.seed" --pid-file="$STATE/run/munged.pid" \
    --log-file="$STATE/log/munged.log"
  log "started munged"
fi
munge -S "$SOCKET" -n | unmunge -S "$SOCKET" >/dev/null

# --- 4. slurm daemons -------------------------------------------------------
if [[ $CONF_CHANGED == 1 ]] && pid_alive "$STATE/run/slurmctld.pid"; then
  log "config changed: restarting slurm daemons"
  for name in slurmd slurmctld; do
    pidf=$STATE/run/$name.pid
    pid_alive "$pidf" && kill "$(cat "$pidf")"
    for _ in $(seq 100); do pid_alive "$pidf" || break; sleep 0.1; done
  done
fi
if ! pid_alive "$STATE/run/slurmctld.pid"; then
  slurmctld -f "$CONF"   # daemonizes; first start has no state to recover
  log "started slurmctld"
fi
if ! pid_alive "$STATE/run/slurmd.pid"; then
  slurmd -f "$CONF"
  log "started slurmd"
fi

# --- 5. wait for an idle node and a job that runs ---------------------------
deadline=$((SECONDS + TIMEOUT))
state=""
until [[ $state =~ ^(idle|mixed|allocated) ]]; do
  state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null | head -1 || true)
  if [[ $state =~ ^(down|drain) ]]; then
    scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true
  fi
  if ((SECONDS > deadline)); then
    echo "node $NODE not idle after ${TIMEOUT}s (state: '$state'); see $STATE/log" >&2
    exit 1
  fi
  sleep 1
done
log "node $NODE is $state"
log "srun hostname -> $(timeout "$TIMEOUT" srun -N1 -n1 -t 1 hostname)"
out=$STATE/log/smoke-%j.out
jid=$(sbatch --parsable -t 1 -o "$out" --wrap 'echo sbatch-ok')
until [[ -z $(squeue -h -j "$jid" -t PD,R,CG 2>/dev/null) ]]; do
  ((SECONDS > deadline + TIMEOUT)) && { echo "sbatch job $jid did not finish" >&2; exit 1; }
  sleep 1
done
grep -q sbatch-ok "${out//%j/$jid}" || { echo "sbatch job $jid produced no output" >&2; exit 1; }
log "sbatch --wrap job $jid -> $(squeue -h -j "$jid" -t all -o %T)"
log "cluster up: logs in $STATE/log, partition debug ($CPUS CPUs, ${MEM_MB} MB); for the clients:"
echo "export PATH=$STATE/bin:\$PATH SLURM_CONF=$CONF"
