# usage: leave <docker-wait-seconds>
# Runs on the node itself as its last step: leave the swarm. A manager that is still in the
# Raft member list demotes itself first (so `pulumi destroy` needs no other manager), unless it
# is the last one; the bootstrap chains these steps, so managers leave one at a time.
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
    log "demoting $(hostname) before it leaves ($others other manager(s) keep the quorum)"
    if out=$(docker node demote "$NODE_ID" 2>&1); then
      # Leaving before Raft has let go of this member would leave the others one vote short.
      end=$(( $(now) + 60 ))
      while load_info && is_manager; do
        [ "$(now)" -lt "$end" ] || die "$(hostname) was demoted but is still a manager after 60s; run pulumi up again"
        nap
      done
    else
      case $out in
        # The other managers are gone already (their entries linger until the swarm does).
        *"last manager"*|*"loss of quorum"*) log "$(hostname) is the last manager standing; leaving without demotion" ;;
        *) printf '%s\n' "$out" | redact >&2
           die "could not demote $(hostname); demote it on another manager (docker node demote $NODE_ID), then run pulumi up again" ;;
      esac
    fi
  fi
fi
docker swarm leave --force 2>&1 >/dev/null | redact >&2 || true
load_info || true
[ "$STATE" = inactive ] || die "$(hostname) could not leave the swarm"
log "$(hostname) left the swarm"
