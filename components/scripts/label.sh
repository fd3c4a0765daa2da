# usage: label <docker-wait-seconds> <node-id> [key=value ...]
# Runs on a manager: sets the node's labels (az, role, instance type) for placement. Prints the node ID.
wait_docker "$1"
node=$2
shift 2
is_manager || die "$(hostname) is not a swarm manager, so it cannot label nodes"
[ $# -gt 0 ] || { printf '%s\n' "$node"; exit 0; }
labels="$*"
for kv in "$@"; do
  case $kv in *=*) ;; *) die "label '$kv' is not key=value" ;; esac
  set -- "$@" --label-add "$kv"
  shift
done
end=$(( $(now) + 60 ))
until docker node inspect "$node" >/dev/null 2>&1; do
  [ "$(now)" -lt "$end" ] || die "node $node is not known to this swarm"
  nap
done
retry_update docker node update "$@" "$node" || die "could not label node $node"
log "labelled $node: $labels"
printf '%s\n' "$node"
