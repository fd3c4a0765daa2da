# usage: prune <docker-wait-seconds> <stack> <drain-seconds> [host ...]
# Runs on a manager after every node of the stack has joined: removes the stack's nodes whose
# host is no longer listed (scale-down), workers first, then managers one at a time. Removal
# runs here, on a manager that answers now, and not in each node's delete hook, which the
# engine would run with the connection stored when the node was created (maybe a dead manager).
wait_docker "$1"
stack=$2
drain=$3
shift 3
is_manager || die "$(hostname) is not a swarm manager, so it cannot remove nodes"
listed() {
  for _h in "$@"; do [ "$_h" = "$want" ] && return 0; done
  return 1
}
gone=$(node_table | while read -r id role s h; do
  [ "$s" = "$stack" ] || continue
  want=$h
  listed "$@" || printf '%s %s %s\n' "$role" "$id" "$h"
done | sort -r)
if [ -z "$gone" ]; then
  log "no node of stack $stack is left over; nothing to do"
  exit 0
fi
printf '%s\n' "$gone" | while read -r role id h; do
  log "$h ($role) is no longer in stack $stack: removing node $id"
  remove_node "$id" "$drain"
done
