# usage: compose-remove <docker-wait-seconds> <stack> <wait-seconds>
# Removes a compose stack and waits until its services and networks are gone, then removes the
# secrets and configs this stack created.
# It runs on the manager stored by the last `up` (components/compose.ts). When that host cannot
# act any more, the swarm (if it lives on) may still run the stack, but no retry here can change
# that: it says so and succeeds, so this delete never fails every later `up`.
stack=$2
cannot() {
  log "warning: $1, so stack $stack was not removed here; if the swarm still runs it, run 'docker stack rm $stack' on a manager"
  exit 0
}
docker_answers "$1" || cannot "Docker does not answer on $(hostname)"
[ "$STATE" = inactive ] && cannot "$(hostname) is not in a swarm"
is_manager || cannot "$(hostname) is not a swarm manager"
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
