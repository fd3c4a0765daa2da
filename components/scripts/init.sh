# usage: init <docker-wait-seconds> <advertise-addr> [manager-addr ...]
# The first manager's first step. Creates the swarm only when no manager of this stack runs one.
# When one of the given managers answers on 2377, it does nothing: the host's join step, which
# every manager has, the first one included, joins it to that swarm. So a replaced first
# manager joins like any other, and there is never a second swarm.
# Prints this node's ID on stdout when it is (or just became) a manager, else nothing.
wait_docker "$1"
addr=$2
shift 2
case $STATE in
  active)
    if is_manager; then
      mkdir -p /var/lib/aws-swarm && printf '%s\n' "$CLUSTER_ID" >/var/lib/aws-swarm/created-swarm
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
running=
for peer in "$@"; do
  if [ "$peer" != "$addr" ] && port_open "$peer" 2377; then running=$peer; break; fi
done
if [ -n "$running" ]; then
  # A replaced first manager: it joins the running swarm in its join step, like any manager.
  log "manager $running already runs this stack's swarm (it answers on 2377); $(hostname) joins it in its join step and creates no second swarm"
  exit 0
fi
log "no manager of this stack runs a swarm; creating one, advertising $addr"
# `swarm init` prints the worker join command with its token: keep it off every stream.
if ! out=$(docker swarm init --advertise-addr "$addr" 2>&1 >/dev/null); then
  printf '%s\n' "$out" | redact >&2
  die "docker swarm init failed on $(hostname)"
fi
load_info
# The first manager's join step accepts this swarm as its own.
mkdir -p /var/lib/aws-swarm && printf '%s\n' "$CLUSTER_ID" >/var/lib/aws-swarm/created-swarm
log "swarm $CLUSTER_ID created"
printf '%s\n' "$NODE_ID"
