# usage: rebalance <docker-wait-seconds> probe
#        rebalance <docker-wait-seconds> apply <wait-seconds> [service ...]
# probe: read-only, what the bootstrap's control probe runs over SSH before `up` registers its
#   steps: prints "control <node-id>" when this host is a manager that can act ("no-control"
#   otherwise), then "unbalanced <service>" per replicated service whose running tasks are spread
#   unevenly over the Ready, active nodes it may use (or, for a service with the preference
#   spread=node.labels.az, over their AZs): the busiest and the idlest differ by more than one task. Nodes that came back after a failure
#   or were added get no tasks by themselves; Swarm only places tasks when they (re)start.
# apply: checks each named service again and, if it is still uneven, runs
#   `docker service update --force`, which restarts its tasks within the service's own update
#   parallelism and order, so the scheduler spreads them again. Services labelled
#   aws-swarm.rebalance=false are never touched.
mode=$2
if [ "$mode" = probe ]; then
  if ! docker_answers "$1" || ! is_manager; then
    echo no-control
    exit 0
  fi
  echo "control $NODE_ID"
elif [ "$mode" = apply ]; then
  wait_docker "$1"
  limit=$3
  shift 3
  is_manager || die "$(hostname) is not a swarm manager, so it cannot rebalance services"
else
  die "mode must be probe or apply, got '$mode'"
fi

# "hostname role az" for every node a task can be placed on now.
usable_nodes() {
  _ids=$(docker node ls -q)
  # shellcheck disable=SC2086
  docker node inspect $_ids -f '{{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} {{.Spec.Role}} {{index .Spec.Labels "az"}}' |
    awk '$2 == "ready" && $3 == "active" { print $1, $4, ($5 == "" ? "-" : $5) }'
}

# Succeeds when service $1 is replicated, not opted out, and spread unevenly.
uneven() {
  _spec=$(docker service inspect "$1" -f '{{if .Spec.Mode.Replicated}}replicated{{else}}global{{end}}|{{index .Spec.Labels "aws-swarm.rebalance"}}|{{with .Spec.TaskTemplate.Placement}}{{range .Preferences}}{{.Spread.SpreadDescriptor}};{{end}}{{end}}|{{with .Spec.TaskTemplate.Placement}}{{range .Constraints}}{{.}};{{end}}{{end}}' 2>/dev/null) || return 1
  _mode=${_spec%%|*}
  _rest=${_spec#*|}
  _opt=${_rest%%|*}
  _rest=${_rest#*|}
  _prefs=${_rest%%|*}
  _constraints=${_rest#*|}
  # A spread preference makes Swarm even out the label's values, not the nodes: judge by AZ then.
  _by=node
  case $_prefs in
    "") ;;
    "node.labels.az;") _by=az ;;
    *) log "$1 spreads over '$_prefs'; not judging its spread"; return 1 ;;
  esac
  [ "$_mode" = replicated ] && [ "$_opt" != false ] || return 1
  _role=
  _old_ifs=$IFS
  IFS=';'
  for _c in $_constraints; do
    _c=$(printf '%s' "$_c" | tr -d ' ')
    case $_c in
      node.role==manager|node.role==worker) _role=${_c#node.role==} ;;
      *) IFS=$_old_ifs; log "$1 has the placement constraint '$_c'; not judging its spread"; return 1 ;;
    esac
  done
  IFS=$_old_ifs
  { usable_nodes | awk -v role="$_role" 'role == "" || $2 == role { print "N", $1, $3 }'
    docker service ps "$1" -f desired-state=running --format '{{.Node}} {{.CurrentState}}' | awk '$2 == "Running" { print "T", $1 }'
  } | awk -v by="$_by" '
    $1 == "N" { node[$2] = 0; az[$2] = $3; zone[$3] = 0; n++ }
    $1 == "T" { tasks[$2]++ }
    END {
      if (n < 2) exit 1
      for (h in node) { c = tasks[h] + 0; node[h] = c; zone[az[h]] += c }
      lo = -1; hi = 0
      for (h in node) { if (lo < 0 || node[h] < lo) lo = node[h]; if (node[h] > hi) hi = node[h] }
      if (by == "node" && hi - lo > 1) exit 0
      zl = -1; zh = 0; zn = 0
      for (z in zone) { zn++; if (zl < 0 || zone[z] < zl) zl = zone[z]; if (zone[z] > zh) zh = zone[z] }
      if (zn > 1 && zh - zl > 1) exit 0
      exit 1
    }'
}

if [ "$mode" = probe ]; then
  for svc in $(docker service ls --format '{{.Name}}' 2>/dev/null); do
    if uneven "$svc"; then echo "unbalanced $svc"; fi
  done
  exit 0
fi

if [ $# -eq 0 ]; then
  log "every service is spread evenly; nothing to do"
  exit 0
fi
for svc in "$@"; do
  if ! uneven "$svc"; then
    log "$svc is spread evenly now (or opted out); nothing to do"
    continue
  fi
  log "rebalancing $svc (docker service update --force, within its update parallelism)"
  retry_update docker service update --force --detach "$svc" || die "could not rebalance $svc"
  end=$(( $(now) + limit ))
  while :; do
    state=$(docker service inspect "$svc" -f '{{with .UpdateStatus}}{{.State}}{{end}}' 2>/dev/null || true)
    case $state in completed|"") break ;; paused|rollback_*) die "rebalancing $svc stopped in state '$state'; see docker service ps $svc" ;; esac
    if [ "$(now)" -ge "$end" ]; then
      log "rebalancing $svc is still under way after ${limit}s; Swarm carries on with it (docker service ps $svc)"
      break
    fi
    nap
  done
  [ "$state" != updating ] || continue
  log "rebalanced $svc"
done
