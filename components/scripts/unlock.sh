# usage: unlock <secret-id> <region|-> <attempts> <seconds-between>
# Run at boot (and whenever Docker starts) on every manager by aws-swarm-unlock.service: when the
# local swarm is locked (autolock), reads the unlock key from Secrets Manager with the instance
# role and gives it to `docker swarm unlock` on stdin. One line of log; never the key.
[ $# -ge 4 ] || die "usage: unlock <secret-id> <region|-> <attempts> <seconds-between>"
SECRET=$1
OPS_REGION=$2
wait_docker 300
if [ "$STATE" != locked ]; then
  log "the swarm on $(hostname) is not locked (state '$STATE'); nothing to do"
  exit 0
fi
if ! unlock_swarm "$3" "$4" ""; then
  die "the swarm on $(hostname) stays locked after $3 attempt(s): $FAILURE"
fi
load_info
log "unlocked the swarm on $(hostname) with the key in $SECRET ($USED) after $TRIES attempt(s); state $STATE"
