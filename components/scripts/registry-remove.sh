# usage: registry-remove <docker-wait-seconds>
# Removes this node's registry container. The images stay in the S3 bucket.
if ! command -v docker >/dev/null 2>&1 || ! docker_answers "$1"; then
  log "Docker does not answer on $(hostname); no registry container left to remove"
  exit 0
fi
if ! docker inspect swarm-registry >/dev/null 2>&1; then
  log "no swarm-registry container on $(hostname); nothing to do"
  exit 0
fi
docker rm -f swarm-registry >/dev/null 2>&1 || die "could not remove the swarm-registry container on $(hostname); remove it by hand (docker rm -f swarm-registry)"
log "removed swarm-registry from $(hostname)"
