# Helpers of the operations programs (autolock, unlock, backup, restore), after lib.sh.
# Unlock keys must never reach a log or a command line: they live in shell variables, go to
# Docker and the AWS CLI on stdin, and to a root-only file only while a rotation is unconfirmed.
OPS_DIR=/var/lib/aws-swarm/ops
redact_keys() { sed 's/SWMKEY-[A-Za-z0-9+/=_-]*/SWMKEY-<redacted>/g; s/SWMTKN-[A-Za-z0-9-]*/SWMTKN-<redacted>/g'; }

# aws_cli with the region given to the program ("-" or "": the CLI's own default).
ops_aws() {
  if [ -n "${OPS_REGION:-}" ] && [ "$OPS_REGION" != - ]; then aws_cli --region "$OPS_REGION" "$@"; else aws_cli "$@"; fi
}

# Reads one version of the unlock-key secret into KEY; $1 is --version-stage or --version-id,
# $2 its value. On failure sets FAILURE to one line that says what is wrong and the fix, never to
# anything holding the key: permissions (AccessDenied: which permission the managers' role
# lacks), a missing secret (ResourceNotFound), or anything else (credentials, network).
fetch_key() {
  _err=$(mktemp)
  if KEY=$(ops_aws secretsmanager get-secret-value --secret-id "$SECRET" "$1" "$2" --query SecretString --output text 2>"$_err"); then
    rm -f "$_err"
    return 0
  fi
  # One line: the CLI's message, without the XML some endpoints answer with.
  _why=$(redact_keys <"$_err" | sed 's/<[^>]*>/ /g' | tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//')
  rm -f "$_err"
  KEY=
  case $_why in
    *AccessDenied*|*"not authorized"*)
      # Secrets Manager asks KMS to decrypt as the caller: a missing kms:Decrypt is an
      # AccessDenied too, and its message names KMS.
      case $_why in
        *"kms:Decrypt"*|*"Access to KMS"*) _grant="kms:Decrypt on the KMS key of $SECRET (the stack key)" ;;
        *) _grant="secretsmanager:GetSecretValue on $SECRET and kms:Decrypt on its KMS key (the stack key)" ;;
      esac
      FAILURE="access denied reading $SECRET with the instance role of $(hostname) ($_why); the managers' role needs $_grant: pulumi up puts the stack's policy (<cluster>-ops-access) back on that role" ;;
    *ResourceNotFound*)
      FAILURE="the secret $SECRET (version $2) does not exist ($_why); run pulumi up, whose autolock step stores the key, or unlock by hand: pulumi stack output --show-secrets unlockKey | docker swarm unlock" ;;
    *)
      FAILURE="could not read $SECRET ($_why); check the instance role's credentials (instance profile, IMDSv2), the network path to Secrets Manager (NAT gateway or VPC endpoint) and /etc/aws-swarm/aws.env" ;;
  esac
  return 1
}

# Unlocks the local daemon with the stored key: the given version only, or the current one and
# then the previous one (a manager that was down through a rotation still has the old key).
# $1 attempts, $2 seconds between them, $3 version id or "". Sets USED to the stage or version.
unlock_swarm() {
  _attempts=$1
  _delay=$2
  _version=${3:-}
  _try=0
  FAILURE="no attempt made"
  while [ "$_try" -lt "$_attempts" ]; do
    _try=$((_try + 1))
    if [ -n "$_version" ]; then set -- "--version-id $_version"; else set -- "--version-stage AWSCURRENT" "--version-stage AWSPREVIOUS"; fi
    for _which in "$@"; do
      # shellcheck disable=SC2086
      fetch_key $_which || continue
      # The daemon answers an unlock only once the node is ready, and a manager without a
      # quorum (every manager restarting at once, a restore) is never ready: once the key is
      # taken, the node is no longer locked, and that is all this needs.
      _rc=0
      _out=$(printf '%s\n' "$KEY" | timeout "${UNLOCK_WAIT:-30}" docker swarm unlock 2>&1) || _rc=$?
      KEY=
      if [ "$_rc" -eq 124 ]; then load_info; [ "$STATE" = locked ] || _rc=0; fi
      if [ "$_rc" -eq 0 ]; then
        USED=${_which#--version-* }
        TRIES=$_try
        return 0
      fi
      case $_out in
        *"not locked"*) USED=none; TRIES=$_try; return 0 ;;
      esac
      FAILURE="the key in $SECRET (${_which#--version-* }) does not unlock the swarm on $(hostname) ($(printf '%s' "$_out" | redact_keys)); the key was rotated outside pulumi, or this node's data is from another key's time: unlock by hand (docker swarm unlock) with the key recorded for its backup"
    done
    [ "$_try" -lt "$_attempts" ] && sleep "$_delay"
  done
  return 1
}

# Stops or starts the local Docker daemon: systemd on EC2; AWS_SWARM_DOCKER_CTL (from
# /etc/aws-swarm/docker.env) where the daemon is run some other way, as on the lab's hosts.
docker_ctl() {
  load_env /etc/aws-swarm/docker.env
  if [ -n "${AWS_SWARM_DOCKER_CTL:-}" ]; then
    $AWS_SWARM_DOCKER_CTL "$1"
    return
  fi
  command -v systemctl >/dev/null 2>&1 || die "no systemctl on $(hostname) to $1 the Docker daemon; set AWS_SWARM_DOCKER_CTL=<command taking stop|start> in /etc/aws-swarm/docker.env"
  case $1 in
    # docker.socket would start the daemon again at the first client call (a metrics timer).
    stop) systemctl stop docker.socket >/dev/null 2>&1 || true; systemctl stop docker.service ;;
    start) systemctl start docker.service ;;
  esac
}

# Waits until this manager counts towards the Raft quorum again, at most $1 seconds.
wait_reachable() {
  _end=$(( $(now) + $1 ))
  until [ "$(docker node inspect self -f '{{.ManagerStatus.Reachability}}' 2>/dev/null)" = reachable ]; do
    [ "$(now)" -lt "$_end" ] || return 1
    nap
  done
}
