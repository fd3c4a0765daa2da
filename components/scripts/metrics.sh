# usage: metrics <cluster> <region>
# The swarm health publisher, run on every manager by the aws-swarm-metrics.timer (once a minute).
# Publishes to CloudWatch namespace Swarm, dimension Cluster=<cluster>, in one PutMetricData call:
#   ReachableManagers  managers that are Leader or Reachable in `docker node ls`; when there is no
#                      leader (node ls cannot answer), the managers that accept TCP on 2377
#   LeaderExists       1 when the swarm has a leader, else 0
#   ReadyNodes, DownNodes  node status counts (only while there is a leader: Raft holds them)
#   CertificateDaysLeft    days until this node's Swarm certificate expires
# A worker, or a node out of the swarm, publishes nothing: the managers speak for the swarm.
[ $# -ge 2 ] || die "usage: metrics <cluster> <region>"
cluster=$1
region=$2
case $cluster in
  ""|*[!A-Za-z0-9_.-]*) die "cluster name '$cluster' must be letters, digits, '.', '_' or '-' (it is a metric dimension)" ;;
esac
load_info || die "the Docker daemon on $(hostname) does not answer; check systemctl status docker, then wait for the next run"
if ! is_manager; then
  log "$(hostname) is not a Swarm manager (state $STATE); only managers publish; nothing to do"
  exit 0
fi

reachable=0 leader=0 ready='' down=''
# Without a leader, node ls goes on answering from the old leader's view for some 15 s, then
# waits for Raft until the daemon's 20 s deadline ("context deadline exceeded"): 10 s is plenty
# for a healthy swarm and keeps the run well inside the timer's minute.
if rows=$(timeout 10 docker node ls --format '{{.Status}}|{{.ManagerStatus}}' 2>/dev/null); then
  ready=0 down=0
  for row in $rows; do
    case ${row#*|} in
      Leader) leader=1; reachable=$((reachable + 1)) ;;
      Reachable) reachable=$((reachable + 1)) ;;
    esac
    case ${row%%|*} in
      Ready) ready=$((ready + 1)) ;;
      Down) down=$((down + 1)) ;;
    esac
  done
else
  # No leader: count the managers this node knows of (itself included) that answer on 2377.
  for addr in $REMOTES; do
    if port_open "${addr%:*}" "${addr##*:}"; then reachable=$((reachable + 1)); fi
  done
  log "no leader: docker node ls does not answer; $reachable manager(s) accept connections on their Swarm port"
fi

days=''
root=$(docker info -f '{{.DockerRootDir}}' 2>/dev/null) || root=/var/lib/docker
cert=$root/swarm/certificates/swarm-node.crt
if ! command -v openssl >/dev/null 2>&1; then
  log "openssl is not installed on $(hostname); CertificateDaysLeft is not published (install openssl)"
elif end=$(openssl x509 -noout -enddate -in "$cert" 2>/dev/null) && until=$(date -u -d "${end#notAfter=}" +%s 2>/dev/null); then
  days=$(( (until - $(now)) / 86400 ))
else
  log "cannot read the expiry of $cert; CertificateDaysLeft is not published"
fi

data=''
add() {
  [ -n "$2" ] || return 0
  data="$data${data:+,}{\"MetricName\":\"$1\",\"Value\":$2,\"Unit\":\"$3\",\"Dimensions\":[{\"Name\":\"Cluster\",\"Value\":\"$cluster\"}]}"
}
add ReachableManagers "$reachable" Count
add LeaderExists "$leader" None
add ReadyNodes "$ready" Count
add DownNodes "$down" Count
add CertificateDaysLeft "$days" None
summary="ReachableManagers=$reachable LeaderExists=$leader ReadyNodes=${ready:-?} DownNodes=${down:-?} CertificateDaysLeft=${days:-?}"
if ! out=$(aws_cli cloudwatch put-metric-data --region "$region" --namespace Swarm --metric-data "[$data]" 2>&1); then
  printf '%s\n' "$out" >&2
  die "could not publish to CloudWatch ($summary); check the manager role's cloudwatch:PutMetricData permission and the route to CloudWatch (NAT or VPC endpoint)"
fi
log "published to Swarm (Cluster=$cluster): $summary"
printf '%s\n' "$summary"
