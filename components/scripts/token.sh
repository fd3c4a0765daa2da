# usage: token <docker-wait-seconds> <manager|worker> [rotation]
# Prints the current join token for the role on stdout; nothing else goes there. With a rotation
# marker this swarm has not rotated for yet, the token is rotated first:
# nodes already joined keep working, the old token joins nothing any more.
wait_docker "$1"
case $2 in manager|worker) ;; *) die "role must be manager or worker, got '$2'" ;; esac
is_manager || die "$(hostname) is not a swarm manager, so it cannot read join tokens; run the init step on it first"
rotation=${3-}
if [ -n "$rotation" ]; then
  # The marker lives in the swarm (a config named after it), not on this host: the step runs
  # on whichever manager answers, and must not rotate again when that manager changes.
  mark=aws-swarm-rotated-$2-$(printf '%s' "$rotation" | cksum | cut -d' ' -f1)
  if ! docker config inspect "$mark" >/dev/null 2>&1; then
    # Both roles' steps run at once, and two cluster updates at once are "out of sequence".
    retry_update docker swarm join-token --rotate -q "$2" || die "could not rotate the $2 join token on $(hostname); check that the swarm has a leader"
    printf '%s\n' "$rotation" | retry_update docker config create "$mark" - || die "rotated the $2 token but could not record it (docker config create $mark)"
    log "rotated the $2 join token"
  else
    log "the $2 join token was already rotated for this marker; nothing to do"
  fi
fi
docker swarm join-token -q "$2"
