# usage: join <docker-wait-seconds> <manager|worker> <advertise-addr> <token-step> <gate-managers> [manager-addr ...]
# <token-step> is the Pulumi name of the command that read the token, for the advice when it is stale.
# <gate-managers>: a manager's join is done only when this many managers are reachable (the rolling gate).
# Reads the join token from stdin. Joins once, waits until the node is usable and prints its ID.
wait_docker "$1"
role=$2
addr=$3
token_step=$4
gate=$5
shift 5
case $role in manager|worker) ;; *) die "role must be manager or worker, got '$role'" ;; esac
JOIN_TOKEN=
IFS= read -r JOIN_TOKEN || true
case $JOIN_TOKEN in
  SWMTKN-1-*) ;;
  *) die "no join token on stdin (read ${#JOIN_TOKEN} characters); pass the token as the command's stdin" ;;
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
    # The first manager's join finds itself in the swarm its init step created (and recorded).
    if in_this_swarm "$@" || { [ "$role" = manager ] && is_manager && [ "$(cat /var/lib/aws-swarm/created-swarm 2>/dev/null || true)" = "$CLUSTER_ID" ]; }; then
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

[ $# -gt 0 ] || die "no manager address given to join, and $(hostname) is not in a swarm"
if ! swarm_join "$role" "$addr" "$@"; then
  case $JOIN_ERROR in
    *"join token"*|*"not authorized"*|*"certificate"*|*"fingerprint"*)
      # pulumi refresh does not re-read commands: only replacing the token step reads it anew.
      die "$JOINED_VIA rejected the $role join token ($JOIN_ERROR); the stored token was rotated or belongs to another swarm: read it again with 'pulumi up --replace <URN of $token_step>' (pulumi stack --show-urns lists it)" ;;
    *) die "joining $JOINED_VIA failed: $JOIN_ERROR" ;;
  esac
fi
unset JOIN_TOKEN
# The next manager may join only when this one counts towards the Raft quorum.
[ "$role" != manager ] || manager_gate "$gate" 120
log "joined as a $role"
printf '%s\n' "$NODE_ID"
