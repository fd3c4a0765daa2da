# usage: token <docker-wait-seconds> <manager|worker> [rotation]
# Prints the current join token for the role on stdout; nothing else goes there. With a rotation
# marker that differs from the last one this manager rotated for, the token is rotated first:
# nodes already joined keep working, the old token joins nothing any more.
wait_docker "$1"
case $2 in manager|worker) ;; *) die "role must be manager or worker, got '$2'" ;; esac
is_manager || die "$(hostname) is not a swarm manager, so it cannot read join tokens; run the init step on it first"
rotation=${3-}
if [ -n "$rotation" ]; then
  mark=/var/lib/aws-swarm/token-rotation-$2
  if [ "$(cat "$mark" 2>/dev/null || true)" != "$rotation" ]; then
    # Both roles' steps run at once, and two cluster updates at once are "out of sequence".
    retry_update docker swarm join-token --rotate -q "$2" || die "could not rotate the $2 join token on $(hostname); check that the swarm has a leader"
    mkdir -p /var/lib/aws-swarm
    printf '%s\n' "$rotation" >"$mark"
    log "rotated the $2 join token"
  else
    log "the $2 join token was already rotated for this marker; nothing to do"
  fi
fi
docker swarm join-token -q "$2"
