# usage: remove <docker-wait-seconds> <node-id> <drain-seconds>
# Runs on a manager: drain the node, wait for its tasks to move, demote it if it is a manager,
# then remove it, so no Down node is left behind. The bootstrap now removes nodes from its
# label and prune steps; this step stays for delete hooks stored by older versions.
node=$2
drain=$3
if ! docker_answers "$1"; then
  log "Docker does not answer on $(hostname); nothing to remove from here"
  exit 0
fi
if ! is_manager; then
  log "$(hostname) is no longer a swarm manager; nothing to remove"
  exit 0
fi
if [ "$node" = "$NODE_ID" ]; then
  log "node $node is this manager; it leaves the swarm in its own step"
  exit 0
fi
remove_node "$node" "$drain"
