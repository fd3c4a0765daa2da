# usage: backup <bucket> <key-prefix> <kms-key-id> <region|-> <secret-id|-> <unlock-attempts>
# Run by aws-swarm-backup.timer on every manager; one of them acts per run: the non-leader
# manager with the lowest node ID, and only while every other manager is Reachable, so the
# quorum holds while its daemon is down (a swarm of one manager backs itself up). That manager
# stops Docker, archives the swarm directory, starts Docker (and unlocks it), uploads the
# archive with SSE-KMS, tagged with the unlock-key version it needs, and waits until it is
# Reachable again. Prints the archive's S3 key on stdout when it made one.
[ $# -ge 6 ] || die "usage: backup <bucket> <key-prefix> <kms-key-id> <region|-> <secret-id|-> <unlock-attempts>"
bucket=$1
prefix=$2
kms=$3
OPS_REGION=$4
SECRET=$5
attempts=$6
wait_docker 300
if ! is_manager; then
  log "$(hostname) is not an active manager (state '$STATE'); nothing to do"
  exit 0
fi
rows=$(docker node ls --filter role=manager --format '{{.ID}} {{.ManagerStatus}}' | sort)
count=0
pick=
unwell=
leader=
while read -r id status; do
  [ -n "$id" ] || continue
  count=$((count + 1))
  case $status in
    Leader) leader=$id ;;
    Reachable) [ -n "$pick" ] || pick=$id ;;
    *) unwell="$unwell $id(${status:-none})" ;;
  esac
done <<ROWS
$rows
ROWS
if [ -n "$unwell" ]; then
  log "no backup this run: manager(s)$unwell are not Reachable, and stopping one more daemon could lose the quorum"
  exit 0
fi
[ "$count" -eq 1 ] && pick=$leader
if [ "$pick" != "$NODE_ID" ]; then
  log "manager $pick takes this run's backup; nothing to do on $(hostname)"
  exit 0
fi
# An autolocked archive opens only with the key of its time, so the archive records the secret
# version holding exactly the swarm's key now, or no backup is made.
version=-
if [ "$(docker info -f '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}')" = true ]; then
  [ "$SECRET" != - ] || die "autolock is on, but no unlock-key secret was given; an archive without its key version could not be restored, so no backup was made"
  both=$(ops_aws secretsmanager get-secret-value --secret-id "$SECRET" --query '[VersionId,SecretString]' --output text 2>&1) ||
    die "could not read the unlock key from $SECRET ($(printf '%s' "$both" | redact_keys)); without its version the archive could not be restored, so no backup was made"
  tab=$(printf '\t')
  version=${both%%"$tab"*}
  if [ "${both#*"$tab"}" != "$(docker swarm unlock-key -q 2>/dev/null)" ]; then
    both=
    die "the unlock key in $SECRET (version $version) is not this swarm's; run pulumi up (its autolock step stores the key) before the next backup, so that the archive's key is known"
  fi
  both=
fi
root=$(docker info -f '{{.DockerRootDir}}')
[ -d "$root/swarm" ] || die "$root/swarm does not exist on $(hostname); nothing to back up"
work=$(mktemp -d /var/tmp/swarm-backup.XXXXXX)
trap 'rm -rf "$work"' EXIT
archive=$work/swarm.tar.gz
started=$(now)
docker_ctl stop || die "could not stop the Docker daemon on $(hostname); no backup was made"
# From here on the daemon comes back whatever happens.
if ! tar -czf "$archive" -C "$root" swarm 2>"$work/tar.err"; then
  docker_ctl start || true
  die "could not archive $root/swarm ($(cat "$work/tar.err")); Docker was started again"
fi
docker_ctl start || die "could not start the Docker daemon again on $(hostname); start it (systemctl start docker) now: the swarm has one manager less"
wait_docker 300
if [ "$STATE" = locked ]; then
  unlock_swarm "$attempts" 5 "" || die "Docker is back on $(hostname) but stays locked: $FAILURE"
fi
wait_reachable 180 || die "$(hostname) did not become a Reachable manager within 180s after its backup; check docker node ls"
down=$(( $(now) - started ))
key="$prefix$(date -u +%Y%m%dT%H%M%SZ)-$(hostname).tar.gz"
size=$(wc -c <"$archive" | tr -d ' ')
if ! out=$(ops_aws s3 cp "$archive" "s3://$bucket/$key" --sse aws:kms --sse-kms-key-id "$kms" \
    --metadata "unlock-key-version=$version,node-id=$NODE_ID" --only-show-errors 2>&1); then
  die "could not upload the backup to s3://$bucket/$key ($out); give the managers' role s3:PutObject on the bucket and kms:GenerateDataKey on the stack key"
fi
log "backed up $root/swarm ($size bytes, unlock key version $version) to s3://$bucket/$key; Docker was down ${down}s and $(hostname) is Reachable again"
printf '%s\n' "$key"
