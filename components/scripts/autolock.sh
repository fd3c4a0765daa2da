# usage: autolock <on|off> <docker-wait-seconds> <secret-id> <region|-> [rotation]
# Runs on one manager. `on`: turns autolock on, stores the unlock key in Secrets Manager (with
# this manager's instance role, the key on stdin) and prints it on stdout, nothing else. With a
# rotation marker new to this swarm, rotates the key first: the new key is stored before this
# step reports success, and managers that missed it still unlock with AWSPREVIOUS.
# `off`: turns autolock off (the delete hook when autolock is switched off).
[ $# -ge 4 ] || die "usage: autolock <on|off> <docker-wait-seconds> <secret-id> <region|-> [rotation]"
mode=$1
SECRET=$3
OPS_REGION=$4
rotation=${5-}
if [ "$mode" = off ]; then
  if ! docker_answers "$2" || ! is_manager; then
    log "no manager answers on $(hostname); autolock is left as it is"
    exit 0
  fi
  retry_update docker swarm update --autolock=false || die "could not turn autolock off on $(hostname); check that the swarm has a leader"
  log "autolock is off"
  exit 0
fi
wait_docker "$2"
is_manager || die "$(hostname) is not a swarm manager (state '$STATE'), so it cannot manage autolock; run the bootstrap first"
stored_matches() {
  fetch_key --version-stage AWSCURRENT 2>/dev/null || { KEY=; return 1; }
  [ "$KEY" = "$1" ]
  _r=$?
  KEY=
  return $_r
}
ensure_stored() {
  if stored_matches "$1"; then return 0; fi
  # The key reaches the CLI on stdin (file:///dev/stdin), never in its arguments.
  if ! _v=$(printf '%s' "$1" | ops_aws secretsmanager put-secret-value --secret-id "$SECRET" \
      --secret-string file:///dev/stdin --query VersionId --output text 2>&1); then
    die "could not store the unlock key in $SECRET ($(printf '%s' "$_v" | redact_keys | tr '\n' ' ')); give the managers' role secretsmanager:PutSecretValue on it and kms:GenerateDataKey on its KMS key, then pulumi up again"
  fi
  log "stored the unlock key in $SECRET as version $_v"
}
if [ "$(docker info -f '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}' 2>/dev/null)" != true ]; then
  # The update prints the new key: keep every stream of it off the log.
  retry_update docker swarm update --autolock=true >/dev/null || die "could not turn autolock on on $(hostname); check that the swarm has a leader"
  log "autolock is on"
fi
mkdir -p /var/lib/aws-swarm
pending=/var/lib/aws-swarm/unlock-key.pending
mark=/var/lib/aws-swarm/unlock-key-rotation
if [ -s "$pending" ]; then
  # A rotation whose new key was not stored yet: store it now, before anything else.
  ensure_stored "$(cat "$pending")"
  rm -f "$pending"
fi
key=$(docker swarm unlock-key -q 2>/dev/null) || die "could not read the unlock key on $(hostname); check that the swarm has a leader"
ensure_stored "$key"
if [ -n "$rotation" ] && [ "$(cat "$mark" 2>/dev/null || true)" != "$rotation" ]; then
  # The current key is stored (and writing works): now rotate, keep the new key in a root-only
  # file until Secrets Manager has it, so a failed upload never loses it.
  ( umask 077; docker swarm unlock-key --rotate -q >"$pending" 2>/dev/null ) || { rm -f "$pending"; die "could not rotate the unlock key on $(hostname); check that the swarm has a leader"; }
  key=$(cat "$pending")
  ensure_stored "$key"
  rm -f "$pending"
  printf '%s\n' "$rotation" >"$mark"
  log "rotated the unlock key; $SECRET holds the new one (AWSCURRENT) and the old one (AWSPREVIOUS)"
fi
printf '%s\n' "$key"
