# usage: join <docker-wait-seconds> <manager|worker> <advertise-addr> <token-step> <manager-addr> [manager-addr ...]
# <token-step> is the Pulumi name of the command that read the token, for the advice when it is stale.
# Reads the join token from stdin. Joins once, waits until the node is usable and prints its ID.
wait_docker "$1"
role=$2
addr=$3
token_step=$4
shift 4
case $role in manager|worker) ;; *) die "role must be manager or worker, got '$role'" ;; esac
[ $# -gt 0 ] || die "no manager address given to join"
token=
IFS= read -r token || true
case $token in
  SWMTKN-1-*) ;;
  *) die "no join token on stdin (read ${#token} characters); pass the token as the command's stdin" ;;
esac

in_this_swarm() {
  _remotes=" $REMOTES "
  for _m in "$@"; do
    case $_remotes in *" $_m:2377 "*) return 0 ;; esac
  done
  return 1
}

case $STATE in
  active)
    if in_this_swarm "$@"; then
      if [ "$role" = manager ] && ! is_manager; then
        die "$(hostname) is a worker of this swarm but must be a manager; run 'docker node promote $NODE_ID' on a manager"
      fi
      log "already in this swarm as a $role; nothing to do"
      printf '%s\n' "$NODE_ID"
      exit 0
    fi
    die "$(hostname) is already in another swarm (managers: $REMOTES); run 'docker swarm leave --force' on it, then pulumi up again"
    ;;
  pending|error)
    log "leaving an unfinished join (state '$STATE') before joining again"
    docker swarm leave --force >/dev/null 2>&1 || true
    ;;
  inactive) ;;
  *) die "swarm state on $(hostname) is '$STATE'; run 'docker swarm leave --force' on it, then pulumi up again" ;;
esac

leader=
for m in "$@"; do
  if port_open "$m" 2377; then leader=$m; break; fi
done
[ -n "$leader" ] || die "no manager answers on 2377 (tried: $*) from $(hostname); check that the managers are up and that their security group allows 2377/tcp from the nodes group"

log "joining $leader as a $role, advertising $addr"
# The token goes to the Engine API on stdin, so it never shows up in any process's arguments.
body=$(printf '{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"%s","RemoteAddrs":["%s:2377"],"JoinToken":"%s"}' "$addr" "$leader" "$token")
sock=/var/run/docker.sock
[ -S "$sock" ] || sock=/run/docker.sock
if ! reply=$(printf '%s' "$body" | curl -sS --max-time 60 --unix-socket "$sock" -H 'Content-Type: application/json' \
    -X POST --data-binary @- -w '\n%{http_code}' http://localhost/swarm/join 2>&1); then
  printf '%s\n' "$reply" | redact >&2
  die "could not reach the Docker API on $(hostname) to join"
fi
unset token body
code=$(printf '%s\n' "$reply" | tail -n 1)
if [ "$code" != 200 ]; then
  msg=$(printf '%s\n' "$reply" | sed '$d' | redact)
  # A failed join keeps retrying in the background; stop it so the node is left clean.
  docker swarm leave --force >/dev/null 2>&1 || true
  case $msg in
    *"join token"*|*"not authorized"*|*"certificate"*|*"fingerprint"*)
      # pulumi refresh does not re-read commands: only replacing the token step reads it anew.
      die "$leader rejected the $role join token ($msg); the stored token was rotated or belongs to another swarm: read it again with 'pulumi up --replace <URN of $token_step>' (pulumi stack --show-urns lists it)" ;;
    *) die "joining $leader failed: $msg" ;;
  esac
fi

if [ "$role" = manager ]; then
  # The next manager may join only when this one counts towards the Raft quorum.
  end=$(( $(now) + 120 ))
  until [ "$(docker node inspect self -f '{{.ManagerStatus.Reachability}}' 2>/dev/null)" = reachable ]; do
    [ "$(now)" -lt "$end" ] || die "$(hostname) joined but did not become a reachable manager within 120s; check 2377/tcp between managers"
    nap
  done
fi
load_info
log "joined as a $role"
printf '%s\n' "$NODE_ID"
