# usage: leave <docker-wait-seconds>
# Runs on the node itself as its last step: leave the swarm. Refuses to break a quorum.
if ! docker_answers "$1"; then
  log "Docker does not answer on $(hostname); nothing to leave"
  exit 0
fi
if [ "$STATE" = inactive ]; then
  log "$(hostname) is not in a swarm; nothing to do"
  exit 0
fi
if is_manager; then
  others=$(docker node ls -f role=manager -q 2>/dev/null | grep -vx "$NODE_ID" | wc -l)
  if [ "$others" -gt 0 ]; then
    die "$(hostname) is still a manager with $others other manager(s); demote it first (docker node demote on another manager) so the quorum is kept"
  fi
fi
docker swarm leave --force 2>&1 >/dev/null | redact >&2 || true
load_info || true
[ "$STATE" = inactive ] || die "$(hostname) could not leave the swarm"
log "$(hostname) left the swarm"
