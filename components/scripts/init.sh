# usage: init <docker-wait-seconds> <advertise-addr> <gate-managers> [manager-addr ...]
# The first manager's step. Creates the swarm only when no manager of this stack runs one: when
# one of the given managers answers on 2377, this host joins that swarm as a manager instead,
# with the manager token on stdin (the bootstrap passes it when its probe found a running swarm).
# So a replaced first manager joins like any other; there is never a second swarm.
# Prints this node's ID on stdout.
wait_docker "$1"
addr=$2
gate=$3
shift 3
case $STATE in
  active)
    if is_manager; then
      log "already a manager of swarm $CLUSTER_ID; nothing to do"
      printf '%s\n' "$NODE_ID"
      exit 0
    fi
    die "$(hostname) is a worker of a swarm managed by ${REMOTES}and cannot be its first manager; run 'docker swarm leave' on it, then pulumi up again"
    ;;
  pending|error)
    log "leaving an unfinished join (state '$STATE') first"
    docker swarm leave --force >/dev/null 2>&1 || true
    ;;
  inactive) ;;
  *) die "swarm state on $(hostname) is '$STATE'; run 'docker swarm leave --force' on it, then pulumi up again" ;;
esac
JOIN_TOKEN=
IFS= read -r JOIN_TOKEN || true
running=
for peer in "$@"; do
  if [ "$peer" != "$addr" ] && port_open "$peer" 2377; then running=$peer; break; fi
done
if [ -n "$running" ]; then
  case $JOIN_TOKEN in
    SWMTKN-1-*) ;;
    *) die "manager $running already runs this stack's swarm (it answers on 2377), but no manager token reached $(hostname), so it neither joins nor creates a second swarm; the bootstrap could not log in to any manager over SSH to read the token: check that one manager answers SSH and 'docker info', then run pulumi up again" ;;
  esac
  if ! swarm_join manager "$addr" "$running"; then
    die "joining the running swarm at $running as a manager failed: $JOIN_ERROR"
  fi
  unset JOIN_TOKEN
  manager_gate "$gate" 120
  log "joined the running swarm $CLUSTER_ID as a manager"
  printf '%s\n' "$NODE_ID"
  exit 0
fi
case $JOIN_TOKEN in
  SWMTKN-1-*) die "a manager of this stack's swarm answered the bootstrap over SSH, but none of its managers ($*) answers on 2377 from $(hostname), so it will not create a second swarm; check that the managers' security group allows 2377/tcp from the nodes group, then run pulumi up again" ;;
esac
log "no manager of this stack runs a swarm; creating one, advertising $addr"
# `swarm init` prints the worker join command with its token: keep it off every stream.
if ! out=$(docker swarm init --advertise-addr "$addr" 2>&1 >/dev/null); then
  printf '%s\n' "$out" | redact >&2
  die "docker swarm init failed on $(hostname)"
fi
load_info
log "swarm $CLUSTER_ID created"
printf '%s\n' "$NODE_ID"
