# usage: token <docker-wait-seconds> <manager|worker>
# Prints the current join token for the role on stdout; nothing else goes there.
wait_docker "$1"
case $2 in manager|worker) ;; *) die "role must be manager or worker, got '$2'" ;; esac
is_manager || die "$(hostname) is not a swarm manager, so it cannot read join tokens; run the init step on it first"
docker swarm join-token -q "$2"
