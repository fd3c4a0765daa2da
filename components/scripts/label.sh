# usage: label <docker-wait-seconds> <node-id> <stack> <host> <drain-seconds> [key=value ...]
# Runs on a manager once a node has joined: waits until the node is Ready, sets it active (a
# rollout drains nodes; a node that came back is used again), labels it (az, role, instance
# type, and the stack and host labels the bootstrap owns), then removes any other node of the
# same stack and host: the node this one replaced. Prints the node ID.
wait_docker "$1"
node=$2
stack=$3
host=$4
drain=$5
shift 5
is_manager || die "$(hostname) is not a swarm manager, so it cannot label nodes"
labels="$*"
for kv in "$@"; do
  case $kv in *=*) ;; *) die "label '$kv' is not key=value" ;; esac
  set -- "$@" --label-add "$kv"
  shift
done
end=$(( $(now) + 120 ))
until [ "$(docker node inspect "$node" -f '{{.Status.State}}' 2>/dev/null)" = ready ]; do
  [ "$(now)" -lt "$end" ] || die "node $node ($host) did not become Ready within 120s; the rollout stops here and the other nodes stay untouched: check the host's Docker daemon and 2377/7946 between nodes, then run pulumi up again"
  nap
done
retry_update docker node update --availability active --label-add "$STACK_LABEL=$stack" --label-add "$HOST_LABEL=$host" "$@" "$node" ||
  die "could not label node $node"
log "labelled $node: $labels"
node_table | while read -r id _role s h; do
  [ "$s" = "$stack" ] && [ "$h" = "$host" ] && [ "$id" != "$node" ] || continue
  log "$host was replaced: removing its old node $id"
  remove_node "$id" "$drain" >&2
done
printf '%s\n' "$node"
