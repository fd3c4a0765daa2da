# usage: restore <docker-wait-seconds> <bucket> <s3-key|prefix/> <region|-> <advertise-addr> <secret-id|->
# Stands up the first manager of a new swarm from a backup: downloads the archive (a key ending
# in "/" means the newest under that prefix), puts it in place of this host's swarm directory,
# unlocks it with the unlock-key version recorded with the archive, and starts a one-manager
# swarm from it (`swarm init --force-new-cluster`), which drops the old managers. Services,
# secrets, configs and networks come back with it; other managers and workers then join.
# A host that is already a manager has nothing to restore. Prints this node's ID on stdout.
[ $# -ge 6 ] || die "usage: restore <docker-wait-seconds> <bucket> <s3-key|prefix/> <region|-> <advertise-addr> <secret-id|->"
bucket=$2
key=$3
OPS_REGION=$4
addr=$5
SECRET=$6
wait_docker "$1"
case $STATE in
  active)
    is_manager || die "$(hostname) is a worker of another swarm; run 'docker swarm leave --force' on it before restoring onto it"
    log "$(hostname) is already a manager of swarm $CLUSTER_ID; nothing to restore"
    printf '%s\n' "$NODE_ID"
    exit 0 ;;
  inactive) ;;
  *) die "swarm state on $(hostname) is '$STATE'; restore onto a fresh host, or run 'docker swarm leave --force' first" ;;
esac
case $key in
  */)
    found=$(ops_aws s3api list-objects-v2 --bucket "$bucket" --prefix "$key" --query 'sort_by(Contents,&LastModified)[-1].Key' --output text 2>&1) ||
      die "could not list s3://$bucket/$key ($found)"
    case $found in ""|None) die "no backup under s3://$bucket/$key; list them with aws s3 ls s3://$bucket/$key" ;; esac
    key=$found ;;
esac
work=$(mktemp -d /var/tmp/swarm-restore.XXXXXX)
trap 'rm -rf "$work"' EXIT
if ! out=$(ops_aws s3 cp "s3://$bucket/$key" "$work/swarm.tar.gz" --only-show-errors 2>&1); then
  die "could not download s3://$bucket/$key ($out); check the key (aws s3 ls s3://$bucket/backups/) and that the managers' role has s3:GetObject and kms:Decrypt"
fi
version=$(ops_aws s3api head-object --bucket "$bucket" --key "$key" --query 'Metadata."unlock-key-version"' --output text 2>&1) ||
  die "could not read the metadata of s3://$bucket/$key ($version)"
tar -tzf "$work/swarm.tar.gz" swarm/raft >/dev/null 2>&1 || die "s3://$bucket/$key is not a swarm backup (no swarm/raft inside)"
root=$(docker info -f '{{.DockerRootDir}}')
docker_ctl stop || die "could not stop the Docker daemon on $(hostname)"
rm -rf "$root/swarm"
tar -xzf "$work/swarm.tar.gz" -C "$root" || { docker_ctl start || true; die "could not unpack the archive into $root"; }
docker_ctl start || die "could not start the Docker daemon on $(hostname) after unpacking the backup"
wait_docker "$1"
if [ "$STATE" = locked ]; then
  # dockerd cannot start a new cluster from a locked Raft state: an unlock first waits for the
  # old managers for ever, and init --force-new-cluster drops the key (moby/moby#36852).
  docker_ctl stop || true
  rm -rf "$root/swarm"
  docker_ctl start || true
  die "s3://$bucket/$key was taken with autolock on (unlock key version $version), and Docker cannot start a new cluster from a locked archive (moby/moby#36852); restore an archive taken with autolock off (docs/backup-restore.md, 'Autolock and restores')"
fi
# `swarm init` prints the worker join command with its token: keep it off every stream.
if ! out=$(docker swarm init --force-new-cluster --advertise-addr "$addr" 2>&1 >/dev/null); then
  printf '%s\n' "$out" | redact_keys >&2
  die "docker swarm init --force-new-cluster failed on $(hostname)"
fi
end=$(( $(now) + 120 ))
until docker node ls >/dev/null 2>&1; do
  [ "$(now)" -lt "$end" ] || die "the restored swarm on $(hostname) has no leader after 120s; check journalctl -u docker"
  nap
done
load_info
# The old managers are out of the Raft group now; their node entries only confuse a rejoin.
removed=0
for id in $(docker node ls --filter role=manager -q); do
  [ "$id" = "$NODE_ID" ] && continue
  docker node demote "$id" >/dev/null 2>&1 || true
  docker node rm --force "$id" >/dev/null 2>&1 && removed=$((removed + 1))
done
if [ "$SECRET" != - ] && [ "$(docker info -f '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}')" = true ]; then
  # Later unlocks read AWSCURRENT: make it this swarm's key again.
  current=$(docker swarm unlock-key -q)
  fetch_key --version-stage AWSCURRENT 2>/dev/null || KEY=
  if [ "$KEY" != "$current" ]; then
    out=$(printf '%s' "$current" | ops_aws secretsmanager put-secret-value --secret-id "$SECRET" --secret-string file:///dev/stdin --query VersionId --output text 2>&1) ||
      die "restored, but could not store the unlock key in $SECRET ($(printf '%s' "$out" | redact_keys)); store it by hand before any manager restarts"
  fi
  KEY=
  current=
fi
log "restored swarm $CLUSTER_ID from s3://$bucket/$key onto $(hostname) ($addr), unlock key version $version; removed $removed old manager(s); join the other managers and the workers now"
printf '%s\n' "$NODE_ID"
