# Shared helpers, prepended to every step script by components/scripts.ts.
# POSIX sh; every step runs with `set -eu` as root (directly or through sudo -n).
set -eu
STEP=${0##*/}
log() { printf '%s: %s\n' "$STEP" "$*" >&2; }
die() { printf '%s: error: %s\n' "$STEP" "$*" >&2; exit 1; }
# Join tokens must never reach a log, even inside an error from Docker.
redact() { sed 's/SWMTKN-[A-Za-z0-9-]*/SWMTKN-<redacted>/g'; }
now() { date +%s; }
nap() { sleep 0.25 2>/dev/null || sleep 1; }

# Reads every swarm fact a step needs in one `docker info` call (each call costs tens of ms on a
# busy host, and a step that has nothing to do should cost little more than its SSH session).
# Sets STATE, CONTROL (true on a manager), NODE_ID, CLUSTER_ID (managers only) and REMOTES
# ("addr:2377 " per known manager). Fails while the daemon does not answer.
load_info() {
  _info=$(docker info -f '{{.Swarm.LocalNodeState}}|{{.Swarm.ControlAvailable}}|{{.Swarm.NodeID}}|{{with .Swarm.Cluster}}{{.ID}}{{end}}|{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}' 2>/dev/null) || return 1
  STATE=${_info%%|*}
  _rest=${_info#*|}
  CONTROL=${_rest%%|*}
  _rest=${_rest#*|}
  NODE_ID=${_rest%%|*}
  _rest=${_rest#*|}
  CLUSTER_ID=${_rest%%|*}
  REMOTES=${_rest#*|}
}

# Waits until the Docker daemon answers, at most $1 seconds, and loads its swarm facts.
wait_docker() {
  _limit=$1
  _end=$(( $(now) + _limit ))
  until load_info; do
    if [ "$(now)" -ge "$_end" ]; then
      die "the Docker daemon on $(hostname) did not answer within ${_limit}s; check that user data installed and started it (systemctl status docker; journalctl -u docker), then run pulumi up again"
    fi
    nap
  done
}

# Like wait_docker, but for delete hooks: a missing daemon means there is nothing left to undo.
docker_answers() {
  _end=$(( $(now) + $1 ))
  until load_info; do
    [ "$(now)" -ge "$_end" ] && return 1
    nap
  done
  return 0
}

is_manager() { [ "$CONTROL" = true ]; }

# True when $1:$2 accepts TCP connections within 3 s.
port_open() {
  if command -v bash >/dev/null 2>&1; then
    timeout 3 bash -c ': </dev/tcp/"$1"/"$2"' _ "$1" "$2" >/dev/null 2>&1
  elif command -v nc >/dev/null 2>&1; then
    nc -z -w 3 "$1" "$2" >/dev/null 2>&1
  else
    die "neither bash nor nc is installed on $(hostname); one is needed to probe $1:$2"
  fi
}

# Runs a swarm-mutating docker command, retrying Raft races ("update out of sequence").
retry_update() {
  _try=0
  while :; do
    if _out=$("$@" 2>&1); then return 0; fi
    _try=$((_try + 1))
    case $_out in
      *"out of sequence"*|*"rpc error"*|*"context deadline"*) [ $_try -lt 10 ] && { nap; nap; continue; } ;;
    esac
    printf '%s\n' "$_out" | redact >&2
    return 1
  done
}

# Exports the settings of env file $1, once per program (host settings: the lab's moto endpoint,
# how its daemon restarts); a missing file has nothing to load.
load_env() {
  case " ${AWS_SWARM_ENV_FILES:-} " in *" $1 "*) return 0 ;; esac
  AWS_SWARM_ENV_FILES="${AWS_SWARM_ENV_FILES:-} $1"
  [ -r "$1" ] || return 0
  set -a
  . "$1"
  set +a
}

# The AWS CLI as the nodes use it. On EC2 the instance role and the region come from IMDS. A
# host that must reach AWS through another endpoint (the lab's moto, a VPC endpoint's DNS name)
# gets AWS_SWARM_ENDPOINT_URL, and whatever else the CLI needs, from /etc/aws-swarm/aws.env:
# Debian's awscli 2.9 predates AWS_ENDPOINT_URL, so the endpoint has to be a flag.
aws_cli() {
  load_env /etc/aws-swarm/aws.env
  command -v aws >/dev/null 2>&1 || die "the AWS CLI is not installed on $(hostname); install it (Debian: apt-get install awscli)"
  aws ${AWS_SWARM_ENDPOINT_URL:+--endpoint-url "$AWS_SWARM_ENDPOINT_URL"} "$@"
}

# --- day 2: joining, gating and removing nodes (shared by init, join, label, prune, leave) ---

# Node labels the bootstrap owns: which stack a node belongs to, and which logical host it is.
# A replaced host's new node carries the same host label as the old one, which is how the old
# node is found and removed after its replacement is in.
STACK_LABEL=aws-swarm.stack
HOST_LABEL=aws-swarm.host

# Joins this daemon to the swarm of the first address in "$@" that answers on 2377, as role $1,
# advertising $2, with the token in $JOIN_TOKEN (never an argument: it would show up in ps).
# Leaves a failed join clean. Sets JOINED_VIA.
swarm_join() {
  _role=$1
  _addr=$2
  shift 2
  JOINED_VIA=
  for _m in "$@"; do
    if port_open "$_m" 2377; then JOINED_VIA=$_m; break; fi
  done
  [ -n "$JOINED_VIA" ] || die "no manager answers on 2377 (tried: $*) from $(hostname); check that the managers are up and that their security group allows 2377/tcp from the nodes group"
  log "joining $JOINED_VIA as a $_role, advertising $_addr"
  _body=$(printf '{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"%s","RemoteAddrs":["%s:2377"],"JoinToken":"%s"}' "$_addr" "$JOINED_VIA" "$JOIN_TOKEN")
  _sock=/var/run/docker.sock
  [ -S "$_sock" ] || _sock=/run/docker.sock
  if ! _reply=$(printf '%s' "$_body" | curl -sS --max-time 60 --unix-socket "$_sock" -H 'Content-Type: application/json' \
      -X POST --data-binary @- -w '\n%{http_code}' http://localhost/swarm/join 2>&1); then
    printf '%s\n' "$_reply" | redact >&2
    die "could not reach the Docker API on $(hostname) to join"
  fi
  unset _body
  _code=$(printf '%s\n' "$_reply" | tail -n 1)
  if [ "$_code" != 200 ]; then
    _msg=$(printf '%s\n' "$_reply" | sed '$d' | redact)
    # A failed join keeps retrying in the background; stop it so the node is left clean.
    docker swarm leave --force >/dev/null 2>&1 || true
    JOIN_ERROR=$_msg
    return 1
  fi
  load_info
}

# Reachable managers (Leader included) as this manager sees them.
reachable_managers() {
  docker node ls -f role=manager --format '{{.ManagerStatus}}' 2>/dev/null | grep -cE '^(Leader|Reachable)$' || true
}

# The rolling gate: waits until this manager is Reachable, the swarm has a leader and at least
# $1 managers are reachable, at most $2 seconds. The next node of a rollout starts only after it.
manager_gate() {
  _want=$1
  _end=$(( $(now) + $2 ))
  until [ "$(docker node inspect self -f '{{.ManagerStatus.Reachability}}' 2>/dev/null)" = reachable ] &&
      docker node ls -f role=manager --format '{{.ManagerStatus}}' 2>/dev/null | grep -qx Leader &&
      [ "$(reachable_managers)" -ge "$_want" ]; do
    [ "$(now)" -lt "$_end" ] || die "$(hostname) joined but the swarm did not get $_want reachable managers and a leader within ${2}s (now $(reachable_managers)); the rollout stops here and the other nodes stay untouched: check 2377/tcp between managers and 'docker node ls', then run pulumi up again"
    nap
  done
}

# "id role stack host" for every node of the swarm, one line each.
node_table() {
  _ids=$(docker node ls -q 2>/dev/null) || return 1
  [ -n "$_ids" ] || return 0
  # shellcheck disable=SC2086
  docker node inspect $_ids -f "{{.ID}} {{.Spec.Role}} {{index .Spec.Labels \"$STACK_LABEL\"}} {{index .Spec.Labels \"$HOST_LABEL\"}}" 2>/dev/null
}

# True when every replicated service runs as many tasks as it wants ("5/5").
services_converged() {
  docker service ls --format '{{.Mode}} {{.Replicas}}' 2>/dev/null | awk '
    $1 == "replicated" { split($2, r, "/"); if (r[1] + 0 < r[2] + 0) bad = 1 }
    END { exit bad }'
}

# A drain stops all of a node's tasks at once. So node $1 is paused (nothing new lands on it),
# and each service with more than one task there is moved off first by its own rolling update
# (`service update --force`: its parallelism, order and monitor), which loses at most that
# parallelism of tasks at a time; the drain then stops at most one task per service. $2 bounds
# each service's update in seconds.
move_off() {
  retry_update docker node update --availability pause "$1" || die "could not pause $1"
  # Replicated tasks are named <service>.<slot>; a global service has one task per node.
  for _svc in $(docker node ps "$1" -f desired-state=running --format '{{.Name}}' 2>/dev/null | sed 's/\.[^.]*$//' | sort | uniq -d); do
    log "moving $_svc off $1 by its rolling update, as it has more than one task there"
    timeout "$2" docker service update --force --detach=false -q "$_svc" >/dev/null 2>&1 ||
      log "the update of $_svc did not finish within ${2}s; draining anyway"
  done
}

# Demotes node $1 if it is a manager, drains it, waits at most $2 s for its tasks to run
# elsewhere, and removes it. Runs on a manager that is not $1. Managers go one at a time (callers are serial),
# and Docker itself refuses a demotion that would lose the quorum.
remove_node() {
  _node=$1
  _drain=$2
  if ! docker node inspect "$_node" >/dev/null 2>&1; then
    log "node $_node is not in the swarm; nothing to remove"
    return 0
  fi
  [ "$_node" != "$NODE_ID" ] || die "node $_node is the manager this step runs on; it cannot remove itself"
  # A manager is demoted first, while its tasks still run: if it leads, leadership moves
  # before any task does, so tasks are never rescheduled during an election.
  if [ "$(docker node inspect "$_node" -f '{{.Spec.Role}}')" = manager ]; then
    log "demoting $_node"
    retry_update docker node demote "$_node" || die "could not demote $_node; demote it by hand (docker node demote $_node), then run pulumi up again"
    _end=$(( $(now) + 60 ))
    while [ -n "$(docker node inspect "$_node" -f '{{if .ManagerStatus}}manager{{end}}' 2>/dev/null)" ] ||
        ! docker node ls -f role=manager --format '{{.ManagerStatus}}' 2>/dev/null | grep -qx Leader; do
      [ "$(now)" -lt "$_end" ] || die "$_node is still in the Raft member list (or the swarm has no leader) 60s after demotion"
      nap
    done
  fi
  move_off "$_node" "$_drain"
  log "draining $_node"
  retry_update docker node update --availability drain "$_node" || die "could not drain $_node"
  _end=$(( $(now) + _drain ))
  while [ -n "$(docker node ps "$_node" -q -f desired-state=running 2>/dev/null)" ]; do
    if [ "$(now)" -ge "$_end" ]; then
      log "tasks on $_node did not stop within ${_drain}s; removing it anyway"
      break
    fi
    nap
  done
  # Tasks that left the node must be running elsewhere before the next node of a rollout goes.
  until services_converged; do
    if [ "$(now)" -ge "$_end" ]; then
      log "not every service had all its tasks running within ${_drain}s; going on"
      break
    fi
    nap
  done
  log "removing $_node"
  retry_update docker node rm --force "$_node" || die "could not remove $_node"
  log "removed $_node"
}
