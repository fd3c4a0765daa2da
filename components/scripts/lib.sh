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

# The AWS CLI as the nodes use it. On EC2 the instance role and the region come from IMDS. A
# host that must reach AWS through another endpoint (the lab's moto, a VPC endpoint's DNS name)
# gets AWS_SWARM_ENDPOINT_URL, and whatever else the CLI needs, from /etc/aws-swarm/aws.env:
# Debian's awscli 2.9 predates AWS_ENDPOINT_URL, so the endpoint has to be a flag.
aws_cli() {
  if [ -z "${AWS_SWARM_ENV_LOADED:-}" ] && [ -r /etc/aws-swarm/aws.env ]; then
    set -a
    . /etc/aws-swarm/aws.env
    set +a
  fi
  AWS_SWARM_ENV_LOADED=1
  command -v aws >/dev/null 2>&1 || die "the AWS CLI is not installed on $(hostname); install it (Debian: apt-get install awscli)"
  aws ${AWS_SWARM_ENDPOINT_URL:+--endpoint-url "$AWS_SWARM_ENDPOINT_URL"} "$@"
}
