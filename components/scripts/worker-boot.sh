# usage: worker-boot (no arguments; run once by the user data of a worker group's instance)
# Joins this instance to the swarm by itself: reads its identity from IMDSv2, sets the engine
# labels the keeper turns into node labels, reads the manager addresses and the worker token
# from SSM Parameter Store with the instance role, and runs the installed join step with the
# token on its stdin. An instance that cannot join within the bound marks itself Unhealthy, so
# its Auto Scaling group replaces it. Settings come from /etc/aws-swarm/worker-group.env.
conf=/etc/aws-swarm/worker-group.env
[ -r "$conf" ] || die "$conf is missing; the user data writes it before running this step"
load_env "$conf"
# The lab's hosts (and a VPC with its own endpoints) reach AWS and IMDS through this file.
load_env /etc/aws-swarm/aws.env
: "${AWS_SWARM_GROUP:?}" "${AWS_SWARM_TOKEN_PARAMETER:?}" "${AWS_SWARM_MANAGERS_PARAMETER:?}" "${AWS_SWARM_STEPS:?}"
bound=${AWS_SWARM_JOIN_SECONDS:-600}
imds_url=${AWS_SWARM_IMDS_URL:-http://169.254.169.254}
deadline=$(( $(now) + bound ))

# IMDSv2: a session token first (PUT), then each path with it. IMDSv1 is off on these instances.
imds_token=
imds() {
  if [ -z "$imds_token" ]; then
    imds_token=$(curl -sS -f --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds_url/latest/api/token") || return 1
  fi
  curl -sS -f --max-time 5 -H "X-aws-ec2-metadata-token: $imds_token" "$imds_url/latest/meta-data/$1"
}
until instance_id=$(imds instance-id) && az=$(imds placement/availability-zone) &&
    itype=$(imds instance-type) && addr=$(imds local-ipv4); do
  [ "$(now)" -lt "$deadline" ] || die "IMDSv2 at $imds_url did not answer within ${bound}s; check the launch template's metadata options (httpTokens required, endpoint enabled)"
  imds_token=
  sleep 2
done
log "instance $instance_id ($itype) in $az, address $addr, group $AWS_SWARM_GROUP"

unhealthy() {
  log "error: $1; marking $instance_id Unhealthy so that $AWS_SWARM_GROUP replaces it"
  aws_cli autoscaling set-instance-health --instance-id "$instance_id" --health-status Unhealthy \
    --no-should-respect-grace-period >/dev/null 2>&1 || log "could not mark $instance_id Unhealthy; the group's health check will"
  exit 1
}

# Engine labels travel with the node's description when it joins; the keeper on the leader
# copies them to node labels (workers cannot set node labels themselves).
cfg=${AWS_SWARM_DOCKER_CONFIG:-/etc/docker/daemon.json}
labels="aws-swarm.az=$az aws-swarm.instance-id=$instance_id aws-swarm.instance-type=$itype aws-swarm.group=$AWS_SWARM_GROUP"
for kv in ${AWS_SWARM_LABELS:-}; do labels="$labels aws-swarm.label.$kv"; done
mkdir -p "$(dirname "$cfg")"
if [ -s "$cfg" ]; then
  command -v python3 >/dev/null 2>&1 || unhealthy "$cfg exists and python3, needed to add labels to it, is missing"
  python3 - "$cfg" $labels <<'PY' || unhealthy "could not add the engine labels to $cfg"
import json, sys
path, labels = sys.argv[1], sys.argv[2:]
with open(path) as f:
    conf = json.load(f)
keep = [l for l in conf.get("labels", []) if not l.startswith("aws-swarm.")]
conf["labels"] = keep + labels
with open(path + ".new", "w") as f:
    json.dump(conf, f, indent=2)
import os
os.replace(path + ".new", path)
PY
else
  printf '{"labels": [%s]}\n' "$(printf '"%s",' $labels | sed 's/,$//')" >"$cfg"
fi
pid=$(cat /var/run/docker.pid 2>/dev/null || cat /run/docker.pid 2>/dev/null || true)
wait_docker "$(( deadline - $(now) > 1 ? deadline - $(now) : 1 ))"
[ -n "$pid" ] || pid=$(cat /var/run/docker.pid 2>/dev/null || cat /run/docker.pid)
# dockerd reloads its labels on SIGHUP (the docker unit's ExecReload does the same).
kill -HUP "$pid" || unhealthy "could not signal dockerd ($pid) to reload its labels"
until docker info -f '{{join .Labels " "}}' 2>/dev/null | grep -q "aws-swarm.instance-id=$instance_id"; do
  [ "$(now)" -lt "$deadline" ] || unhealthy "dockerd did not take the engine labels from $cfg"
  nap
done
log "engine labels set: $labels"

# The parameters can lag behind a new manager or a rotated token: retry until the bound.
attempt=0
while :; do
  attempt=$((attempt + 1))
  if managers=$(aws_cli ssm get-parameter --name "$AWS_SWARM_MANAGERS_PARAMETER" --query Parameter.Value --output text 2>/dev/null) &&
      [ -n "$managers" ]; then
    # The token goes from the AWS CLI's stdout straight into the join step's stdin: never a
    # variable here, an argument, a file or a log line.
    if aws_cli ssm get-parameter --name "$AWS_SWARM_TOKEN_PARAMETER" --with-decryption --query Parameter.Value --output text 2>/dev/null |
        sh -c ". '$AWS_SWARM_STEPS/lib.sh'; . '$AWS_SWARM_STEPS/join.sh'" swarm-join \
          "$(( deadline - $(now) > 1 ? deadline - $(now) : 1 ))" worker "$addr" "${AWS_SWARM_TOKEN_STEP_NAME:-the worker token step}" 0 \
          $(printf '%s' "$managers" | tr ',' ' ') >/dev/null; then
      log "joined the swarm (attempt $attempt)"
      if [ -n "${AWS_SWARM_REGISTRY:-}" ]; then
        # Services pull 127.0.0.1:5000/<image> from the node they run on: no registry, no node.
        "$AWS_SWARM_REGISTRY" "$(( deadline - $(now) > 60 ? deadline - $(now) : 60 ))" "$AWS_SWARM_REGISTRY_IMAGE" \
          "$AWS_SWARM_REGISTRY_BUCKET" "$AWS_SWARM_REGISTRY_REGION" >/dev/null || unhealthy "the node's registry did not start"
        log "registry running"
      fi
      exit 0
    fi
  else
    log "cannot read $AWS_SWARM_MANAGERS_PARAMETER yet (attempt $attempt)"
  fi
  [ "$(now)" -lt "$deadline" ] || unhealthy "could not join the swarm within ${bound}s"
  sleep 5
done
