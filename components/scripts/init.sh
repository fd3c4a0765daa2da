# usage: init <docker-wait-seconds> <advertise-addr> [peer-manager-addr ...]
# Creates the swarm on the first manager, once. Prints this node's ID on stdout.
wait_docker "$1"
addr=$2
shift 2
case $STATE in
  active)
    if is_manager; then
      log "already a manager of swarm $CLUSTER_ID; nothing to do"
      printf '%s\n' "$NODE_ID"
      exit 0
    fi
    die "$(hostname) is a worker of a swarm managed by ${REMOTES}and cannot be its first manager; run 'docker swarm leave' on it, then pulumi up again"
    ;;
  inactive) ;;
  *) die "swarm state on $(hostname) is '$STATE'; run 'docker swarm leave --force' on it, then pulumi up again" ;;
esac
# A replaced first manager must never start a second swarm beside the one its peers still run.
for peer in "$@"; do
  if port_open "$peer" 2377; then
    die "manager $peer already runs a swarm (it answers on 2377), so $(hostname) will not create a second one. To bring this host back, join it to that swarm as a manager (docker swarm join-token manager on $peer), or remove the old managers first"
  fi
done
log "creating the swarm, advertising $addr"
# `swarm init` prints the worker join command with its token: keep it off every stream.
if ! out=$(docker swarm init --advertise-addr "$addr" 2>&1 >/dev/null); then
  printf '%s\n' "$out" | redact >&2
  die "docker swarm init failed on $(hostname)"
fi
load_info
log "swarm $CLUSTER_ID created"
printf '%s\n' "$NODE_ID"
