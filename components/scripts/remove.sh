# usage: remove <docker-wait-seconds> <node-id> <drain-seconds>
# Runs on a manager when a node goes away: drain it, wait for its tasks to move, demote it if it
# is a manager, then remove it from the swarm, so no Down node is left behind.
node=$2
drain=$3
if ! docker_answers "$1"; then
  log "Docker does not answer on $(hostname); the swarm is gone, nothing to remove"
  exit 0
fi
if ! is_manager; then
  log "$(hostname) is no longer a swarm manager; nothing to remove"
  exit 0
fi
if ! docker node inspect "$node" >/dev/null 2>&1; then
  log "node $node is not in the swarm; nothing to remove"
  exit 0
fi
if [ "$node" = "$NODE_ID" ]; then
  log "node $node is this manager; it leaves the swarm in its own step"
  exit 0
fi
log "draining $node"
retry_update docker node update --availability drain "$node" || die "could not drain $node"
end=$(( $(now) + drain ))
while [ -n "$(docker node ps "$node" -q -f desired-state=running 2>/dev/null)" ]; do
  if [ "$(now)" -ge "$end" ]; then
    log "tasks on $node did not stop within ${drain}s; removing it anyway"
    break
  fi
  nap
done
if [ "$(docker node inspect "$node" -f '{{.Spec.Role}}')" = manager ]; then
  log "demoting $node"
  retry_update docker node demote "$node" || die "could not demote $node; demote it by hand (docker node demote $node), then run pulumi up again"
  end=$(( $(now) + 60 ))
  while [ -n "$(docker node inspect "$node" -f '{{if .ManagerStatus}}manager{{end}}' 2>/dev/null)" ]; do
    [ "$(now)" -lt "$end" ] || die "$node is still in the Raft member list 60s after demotion"
    nap
  done
fi
log "removing $node"
retry_update docker node rm --force "$node" || die "could not remove $node"
log "removed $node"
