# usage: compose-remove <docker-wait-seconds> <stack> <wait-seconds>
# Removes a compose stack and waits until its services and networks are gone, then removes the
# secrets and configs this stack created.
if ! docker_answers "$1"; then
  log "Docker does not answer on $(hostname); nothing to remove"
  exit 0
fi
stack=$2
if [ "$STATE" = inactive ]; then log "$(hostname) is not in a swarm; nothing to remove"; exit 0; fi
is_manager || die "$(hostname) is not a swarm manager; remove the stack from a manager"
docker stack rm "$stack" >&2 || true
end=$(( $(now) + $3 ))
filter="label=com.docker.stack.namespace=$stack"
until [ -z "$(docker service ls -q -f "$filter")$(docker network ls -q -f "$filter")" ]; do
  [ "$(now)" -ge "$end" ] && die "stack $stack still has services or networks after ${3}s; check docker stack ps $stack, then run pulumi up again"
  nap; nap
done
for kind in secret config; do
  for name in $(docker "$kind" ls -f "label=aws-swarm.stack=$stack" --format '{{.Name}}'); do
    until docker "$kind" rm "$name" >/dev/null 2>&1; do
      [ "$(now)" -ge "$end" ] && die "$kind $name of stack $stack is still in use after ${3}s"
      nap
    done
  done
done
log "stack $stack removed"
