# usage: restore <docker-wait-seconds> <bucket> <s3-key|prefix/> <region|-> <advertise-addr> <secret-id|-> [<swarm-recover> [<sha256>]]
# Stands up the first manager of a new swarm from a backup: downloads the archive (a key ending
# in "/" means the newest under that prefix), puts it in place of this host's swarm directory,
# and starts a one-manager swarm from it (`swarm init --force-new-cluster`), which drops the old
# managers. Services, secrets, configs and networks come back with it; other managers and
# workers then join. swarm-recover (tools/swarm-recover, on Docker's swarmkit) does what dockerd
# cannot: it opens an archive taken with autolock on with the unlock-key version recorded with it
# (moby/moby#36852), and gives the restored manager this host's Raft address instead of the
# archived host's, which every joining node would otherwise be sent to. The restored swarm is
# autolocked again with the archive's key, which becomes the secret's current version. A host
# that is already a manager has nothing to restore. Prints this node's ID on stdout.
[ $# -ge 6 ] || die "usage: restore <docker-wait-seconds> <bucket> <s3-key|prefix/> <region|-> <advertise-addr> <secret-id|-> [<swarm-recover> [<sha256>]]"
bucket=$2
key=$3
OPS_REGION=$4
addr=$5
SECRET=$6
RECOVER=${7:-$OPS_DIR/swarm-recover}
RECOVER_SHA=${8:-}

# swarm-recover comes with the package (components/tools), and the restore's upload step copies
# it here. It runs as root with the key on its stdin, so with a digest given, only a copy in the
# root-only ops directory that has exactly that digest is run.
install_recover() {
  case $(uname -m) in
    x86_64|amd64) ;;
    *) die "the packaged swarm-recover is for x86_64, and $(hostname) is $(uname -m); build tools/swarm-recover with GOARCH for it and pass its path" ;;
  esac
  [ -f "$RECOVER" ] || die "$RECOVER is missing on $(hostname); copy bin/components/tools/swarm-recover-linux-amd64 of the aws-swarm package there (pulumi up does it when restoreFrom is set)"
  [ -n "$RECOVER_SHA" ] || return 0
  mkdir -p "$OPS_DIR"
  install -m 0700 "$RECOVER" "$OPS_DIR/swarm-recover.new"
  _have=$(sha256sum "$OPS_DIR/swarm-recover.new" | cut -d' ' -f1)
  if [ "$_have" != "$RECOVER_SHA" ]; then
    rm -f "$OPS_DIR/swarm-recover.new"
    die "$RECOVER is not the swarm-recover this stack shipped (sha256 $_have, expected $RECOVER_SHA); delete it and run pulumi up again"
  fi
  mv "$OPS_DIR/swarm-recover.new" "$OPS_DIR/swarm-recover"
  RECOVER=$OPS_DIR/swarm-recover
}
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
install_recover
# The archive's unlock key, when it was taken with autolock on; kept only in this variable.
ARCHIVE_KEY=
locked=false
case $version in -|""|None) ;; *) locked=true ;; esac
if [ "$locked" = true ]; then
  [ "$SECRET" != - ] || die "s3://$bucket/$key was taken with autolock on (unlock key version $version); pass the unlock-key secret (the stack's unlockKeySecretArn) so the key of that version can open it"
  fetch_key --version-id "$version" || die "s3://$bucket/$key needs unlock key version $version: $FAILURE"
  ARCHIVE_KEY=$KEY
  KEY=
fi
root=$(docker info -f '{{.DockerRootDir}}')
# Puts this host back as it was (no swarm) before it fails.
abandon() {
  ARCHIVE_KEY=
  docker_ctl stop || true
  rm -rf "$root/swarm"
  docker_ctl start || true
  die "$1; the host has no swarm again"
}
# swarm-recover with the archive's key (or nothing) on stdin; its one line goes to $why.
recover() {
  _rc=0
  why=$(printf '%s\n' "$ARCHIVE_KEY" | "$RECOVER" "$@" 2>&1) || _rc=$?
  why=$(printf '%s' "$why" | redact_keys | tr '\n' ' ')
  return "$_rc"
}
docker_ctl stop || die "could not stop the Docker daemon on $(hostname)"
rm -rf "$root/swarm"
tar -xzf "$work/swarm.tar.gz" -C "$root" || abandon "could not unpack the archive into $root"
if [ "$locked" = true ]; then
  recover open "$root/swarm" || abandon "could not open s3://$bucket/$key with unlock key version $version ($why)"
fi
docker_ctl start || die "could not start the Docker daemon on $(hostname) after unpacking the backup"
wait_docker "$1"
[ "$STATE" != locked ] || abandon "the swarm from s3://$bucket/$key is locked on $(hostname) although it was recorded as taken with autolock off (unlock key version $version); restore it with the secret of the stack it came from"
# `--autolock` keeps the cluster's own unlock key (the archive's); without it a locked archive
# would come back unlocked. `swarm init` prints the worker join command with its token, and
# with --autolock the unlock key: stdout goes nowhere.
init_flags=
[ "$locked" = false ] || init_flags=--autolock
# shellcheck disable=SC2086
if ! out=$(docker swarm init --force-new-cluster $init_flags --advertise-addr "$addr" 2>&1 >/dev/null); then
  printf '%s\n' "$out" | redact_keys >&2
  abandon "docker swarm init --force-new-cluster failed on $(hostname)"
fi
end=$(( $(now) + 120 ))
until docker node ls >/dev/null 2>&1; do
  [ "$(now)" -lt "$end" ] || die "the restored swarm on $(hostname) has no leader after 120s; check journalctl -u docker"
  nap
done
load_info
# This host's Raft address, not the archived host's, which every joining node would be sent to;
# swarm-recover then has the leader snapshot and drop the old log, whose membership entries still
# name the old address (see tools/swarm-recover).
recover readdress "$root/swarm" "$addr:2377" || die "restored, but the Raft address of $(hostname) may still be the archived host's ($why); do not join managers until docker node inspect self shows $addr:2377"
ARCHIVE_KEY=
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
