# usage: compose-deploy <docker-wait-seconds> <stack> <converge-wait-seconds>
# Deploys a compose stack from this manager. stdin carries, one per line, "compose <base64>",
# "secret <name> <base64>" and "config <name> <base64>": the file and every value stay out of
# the command text. Secrets and configs are named by content hash, so a new value is a new
# object and the services roll onto it; old ones of this stack are removed once unused.
wait_docker "$1"
stack=$2
limit=$3
is_manager || die "$(hostname) is not a swarm manager; run the stack from a manager"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
umask 077
keep=" "
while read -r kind name value; do
  case $kind in
    compose) printf '%s' "$name" | base64 -d >"$dir/compose.yml" ;;
    secret|config)
      keep="$keep$name "
      if ! docker "$kind" inspect "$name" >/dev/null 2>&1; then
        printf '%s' "$value" | base64 -d | docker "$kind" create --label "aws-swarm.stack=$stack" "$name" - >/dev/null
        log "created $kind $name"
      fi ;;
    '') ;;
    *) die "unknown input line '$kind'" ;;
  esac
done
[ -s "$dir/compose.yml" ] || die "no compose file arrived on stdin"
# --detach=false (Docker CLI 26+) waits for convergence; older CLIs, such as Debian's 20.10 and
# Amazon Linux 2023's, lack the flag. It waits for ever on a task that cannot start, so it runs
# under the same bound, and the check below, which names the failing service, covers both.
help=$(docker stack deploy --help 2>&1 || true)
flags=
case $help in *--detach*) flags="--detach=false" ;; esac
case $help in *--quiet*) flags="$flags --quiet" ;; esac
end=$(( $(now) + limit ))
rc=0
# shellcheck disable=SC2086
timeout "$limit" docker stack deploy --prune --with-registry-auth $flags -c "$dir/compose.yml" "$stack" >&2 || rc=$?
case $rc in
  0|124) ;;
  *) die "docker stack deploy of $stack failed (see above); fix the compose file and run pulumi up again" ;;
esac

# Converged: every service of the stack has all its tasks running and no update in progress.
while :; do
  pending=
  for svc in $(docker stack services "$stack" -q); do
    row=$(docker service inspect -f '{{.Spec.Name}}|{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$svc")
    name=${row%%|*}
    state=${row#*|}
    reps=$(docker service ls -f "id=$svc" --format '{{.Replicas}}' | sed 's/ .*//')
    case $state in
      paused|rollback_started|rollback_paused|rollback_completed)
        err=$(docker service ps "$svc" --no-trunc -f desired-state=shutdown --format '{{.Error}}' | grep -v '^$' | head -n 1)
        die "service $name did not update ($state): ${err:-no task error}; fix it and run pulumi up again" ;;
    esac
    if [ "${reps%/*}" != "${reps#*/}" ] || [ "$state" = updating ]; then pending="$pending $name"; fi
  done
  [ -z "$pending" ] && break
  if [ "$(now)" -ge "$end" ]; then
    svc=${pending# }
    svc=${svc%% *}
    err=$(docker service ps "$svc" --no-trunc --format '{{.Error}}' | grep -v '^$' | head -n 1)
    die "service $svc of stack $stack did not converge within ${limit}s: ${err:-tasks not running yet}; fix it (docker service ps $svc) and run pulumi up again"
  fi
  nap; nap
done
# Secrets and configs of earlier values, now unused by the stack.
for kind in secret config; do
  for name in $(docker "$kind" ls -f "label=aws-swarm.stack=$stack" --format '{{.Name}}'); do
    case $keep in *" $name "*) continue ;; esac
    docker "$kind" rm "$name" >/dev/null 2>&1 && log "removed old $kind $name" || log "kept $kind $name (still in use)"
  done
done
log "stack $stack deployed"
docker stack services "$stack" --format '{{.Name}} {{.Replicas}}'
