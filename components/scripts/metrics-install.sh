# usage: metrics-install <cluster> <region>   (the publisher program on stdin)
# Installs the swarm health publisher on a manager: the program read from stdin goes to
# /usr/local/lib/aws-swarm/swarm-metrics, and the units aws-swarm-metrics.service (one run) and
# aws-swarm-metrics.timer (every minute) to /etc/systemd/system. The timer is enabled only where
# systemd runs; elsewhere the units are written and the service's ExecStart is the command to run.
# Then the publisher runs once, so a missing permission shows now; its failure is only a warning
# (a new role's policy can take a minute to reach CloudWatch, and the timer retries every minute).
[ $# -ge 2 ] || die "usage: metrics-install <cluster> <region> (publisher on stdin)"
cluster=$1
region=$2
case $cluster in
  ""|*[!A-Za-z0-9_.-]*) die "cluster name '$cluster' must be letters, digits, '.', '_' or '-'" ;;
esac
case $region in
  ""|*[!a-z0-9-]*) die "region '$region' is not an AWS region name such as us-east-1" ;;
esac
bin=/usr/local/lib/aws-swarm/swarm-metrics
units=/etc/systemd/system
mkdir -p "${bin%/*}" "$units"
tmp=$(mktemp "$bin.XXXXXX")
cat >"$tmp"
[ -s "$tmp" ] || { rm -f "$tmp"; die "no publisher program on stdin"; }
chmod 0755 "$tmp"
mv "$tmp" "$bin"
cat >"$units/aws-swarm-metrics.service" <<UNIT
[Unit]
Description=aws-swarm: publish Swarm health metrics to CloudWatch (namespace Swarm, Cluster=$cluster)
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/bin/sh $bin $cluster $region
UNIT
cat >"$units/aws-swarm-metrics.timer" <<UNIT
[Unit]
Description=aws-swarm: run aws-swarm-metrics.service every minute

[Timer]
OnBootSec=60
OnUnitActiveSec=60
AccuracySec=5

[Install]
WantedBy=timers.target
UNIT
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now aws-swarm-metrics.timer >/dev/null 2>&1 || die "could not enable aws-swarm-metrics.timer; see systemctl status aws-swarm-metrics.timer"
  log "installed $bin and enabled aws-swarm-metrics.timer (every 60 s)"
else
  log "installed $bin and wrote the units; no systemd on $(hostname), so the timer is not enabled (run: /bin/sh $bin $cluster $region)"
fi
if /bin/sh "$bin" "$cluster" "$region" >/dev/null; then
  log "first publish done"
else
  log "warning: the first publish failed (above); the timer retries every minute"
fi
echo "$bin"
