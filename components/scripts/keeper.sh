# usage: keeper (no arguments; run by the aws-swarm-keeper systemd timer on every manager)
# Keeps the swarm in step with its worker groups. Every manager runs it; only the leader acts,
# so losing any manager loses no keeper. One run:
#   1. copies engine labels aws-swarm.* to node labels on nodes that lack them;
#   2. for instances in Terminating:Wait (the groups' lifecycle hook): drains the node, waits
#      for its tasks (bounded), removes it, then completes the lifecycle action;
#   3. removes worker nodes that are Down and whose instance no longer exists.
# Never removes a manager, never more than AWS_SWARM_MAX_REMOVALS nodes per run. One line per
# action on stderr, which systemd sends to the journal. Settings: /etc/aws-swarm/keeper.env.
conf=/etc/aws-swarm/keeper.env
if [ -r "$conf" ]; then
  set -a
  . "$conf"
  set +a
fi
groups=${AWS_SWARM_GROUPS:-}
max_removals=${AWS_SWARM_MAX_REMOVALS:-3}
drain=${AWS_SWARM_DRAIN_SECONDS:-120}

load_info 2>/dev/null || exit 0
is_manager || exit 0
[ "$(docker node inspect self -f '{{.ManagerStatus.Leader}}' 2>/dev/null)" = true ] || exit 0

# One inspect for every node: ID, state, role, node labels and aws-swarm.* engine labels.
table=$(docker node inspect $(docker node ls -q) -f '{{.ID}}|{{.Status.State}}|{{.Spec.Role}}|{{range $k, $v := .Spec.Labels}}{{$k}}={{$v}} {{end}}|{{range $k, $v := .Description.Engine.Labels}}{{$k}}={{$v}} {{end}}') ||
  die "could not inspect the nodes of this swarm"

# 1. Labels: az, instance-id, instance-type, group and the group's own labels, once per node.
printf '%s\n' "$table" | while IFS='|' read -r id state role have engine; do
  add=
  for kv in $engine; do
    case $kv in
      aws-swarm.label.*=*) kv=${kv#aws-swarm.label.} ;;
      aws-swarm.*=*) kv=${kv#aws-swarm.} ;;
      *) continue ;;
    esac
    case " $have " in *" ${kv%%=*}="*) continue ;; esac
    add="$add $kv"
  done
  [ -n "$add" ] || continue
  set --
  for kv in $add; do set -- "$@" --label-add "$kv"; done
  if retry_update docker node update "$@" "$id"; then log "labelled $id:$add"; else log "could not label $id"; fi
done

removed=0
instance_of() { printf '%s\n' "$table" | awk -F'|' -v id="$1" '$1 == id { n = split($5, kv, " "); for (i = 1; i <= n; i++) if (kv[i] ~ /^aws-swarm\.instance-id=/) { sub(/^aws-swarm\.instance-id=/, "", kv[i]); print kv[i] } }'; }
node_of() { printf '%s\n' "$table" | awk -F'|' -v want="aws-swarm.instance-id=$1" '{ n = split($5, kv, " "); for (i = 1; i <= n; i++) if (kv[i] == want) print $1 "|" $3 }'; }

# Drain, wait for the tasks to move (bounded), remove. Never a manager: managers are fixed
# instances with their own removal (the bootstrap's delete hooks).
remove_node() {
  _node=$1
  _why=$2
  retry_update docker node update --availability drain "$_node" || { log "could not drain $_node ($_why)"; return 1; }
  log "drained $_node ($_why)"
  _end=$(( $(now) + drain ))
  while [ -n "$(docker node ps "$_node" -q -f desired-state=running 2>/dev/null)" ]; do
    if [ "$(now)" -ge "$_end" ]; then log "tasks on $_node did not stop within ${drain}s; removing it anyway"; break; fi
    nap
  done
  retry_update docker node rm --force "$_node" || { log "could not remove $_node ($_why)"; return 1; }
  log "removed $_node ($_why)"
}

# 2. Instances the groups are terminating, held by the lifecycle hook until we complete it.
if [ -n "$groups" ]; then
  waiting=$(aws_cli autoscaling describe-auto-scaling-instances \
    --query 'AutoScalingInstances[?LifecycleState==`Terminating:Wait`].[InstanceId,AutoScalingGroupName]' --output text) ||
    die "could not list the groups' instances (autoscaling:DescribeAutoScalingInstances); check the managers' role"
  # A here-document, not a pipe: the removal count must outlive the loop.
  while read -r instance group; do
    [ -n "$instance" ] || continue
    case " $groups " in *" $group "*) ;; *) continue ;; esac
    found=$(node_of "$instance")
    node=${found%%|*}
    if [ -n "$node" ] && [ "${found#*|}" = manager ]; then
      log "instance $instance of $group is a manager node ($node); not removing it"
    elif [ -n "$node" ]; then
      [ "$removed" -lt "$max_removals" ] || { log "removal bound ($max_removals) reached; $instance waits for the next run"; continue; }
      remove_node "$node" "instance $instance of $group is terminating" || continue
      removed=$((removed + 1))
    fi
    aws_cli autoscaling complete-lifecycle-action --auto-scaling-group-name "$group" \
      --lifecycle-hook-name "${AWS_SWARM_HOOK_NAME:-aws-swarm-drain}" --instance-id "$instance" --lifecycle-action-result CONTINUE >/dev/null ||
      { log "could not complete the lifecycle action of $instance in $group"; continue; }
    log "completed the lifecycle action of $instance in $group"
  done <<WAITING
$waiting
WAITING
fi

# 3. Down workers whose instance is gone (terminated outside the hook, or reclaimed Spot).
down=$(printf '%s\n' "$table" | awk -F'|' '$2 == "down" && $3 == "worker" && $5 ~ /aws-swarm\.instance-id=/ { print $1 }')
for node in $down; do
  [ "$removed" -lt "$max_removals" ] || { log "removal bound ($max_removals) reached; other Down nodes wait for the next run"; break; }
  instance=$(instance_of "$node")
  state=$(aws_cli ec2 describe-instances --instance-ids "$instance" --query 'Reservations[].Instances[].State.Name' --output text 2>&1) || {
    case $state in
      *InvalidInstanceID.NotFound*) state=gone ;;
      *) log "could not look up instance $instance of Down node $node; keeping it"; continue ;;
    esac
  }
  case $state in
    ""|gone|terminated|shutting-down) ;;
    *) continue ;;
  esac
  remove_node "$node" "instance $instance is ${state:-gone}" && removed=$((removed + 1))
done
