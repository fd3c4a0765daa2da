# usage: journal <docker-wait-seconds> <image> <log-group> <region>
# Runs on a manager: keeps the global Swarm service aws-swarm-journal, one Fluent Bit task per node
# (workers that join later included), reading the node's systemd journal (/var/log/journal) and
# sending it to CloudWatch Logs group <log-group>, one stream per node named after its hostname.
# Fluent Bit takes the instance role's credentials from IMDSv2 (hop limit 2). Its own output stays
# in json-file, so the forwarder never forwards itself. Replaces the service only when its settings change.
[ $# -ge 4 ] || die "usage: journal <docker-wait-seconds> <image> <log-group> <region>"
image=$2
group=$3
region=$4
[ -n "$image" ] || die "no forwarder image given"
[ -n "$group" ] || die "no log group given"
case $region in ""|*[!a-z0-9-]*) die "region '$region' is not an AWS region name such as us-east-1" ;; esac
wait_docker "$1"
is_manager || die "$(hostname) is not a Swarm manager; run this step on a manager"
svc=aws-swarm-journal
label=aws-swarm.journal.settings
# spec= names the shape of the service below: bump it when the flags change.
settings="spec=1 image=$image group=$group region=$region"
current=$(docker service inspect -f "{{index .Spec.Labels \"$label\"}}" "$svc" 2>/dev/null) || current=
if [ "$current" = "$settings" ]; then
  log "$svc already forwards the journal to $group; nothing to do"
  docker service inspect -f '{{.ID}}' "$svc"
  exit 0
fi
if [ -n "$current" ]; then
  log "replacing $svc (was: $current)"
  docker service rm "$svc" >/dev/null
fi
log "creating $svc: $image on every node, journal to $group in $region"
docker service create -d -q --name "$svc" --mode global --label "$label=$settings" \
  --mount type=bind,src=/var/log/journal,dst=/var/log/journal,readonly \
  --mount type=bind,src=/etc/machine-id,dst=/etc/machine-id,readonly \
  --mount type=volume,src=aws-swarm-journal-state,dst=/fluent-bit/state \
  --log-driver json-file --log-opt max-size=10m --log-opt max-file=3 \
  --restart-condition any --restart-delay 30s \
  "$image" /fluent-bit/bin/fluent-bit \
  -i systemd -p path=/var/log/journal -p db=/fluent-bit/state/journal.db -p read_from_tail=on -t journal \
  -o cloudwatch_logs -m '*' -p "region=$region" -p "log_group_name=$group" \
  -p 'log_stream_template=$_HOSTNAME' -p log_stream_prefix=node- -p auto_create_group=off
