# usage: registry <docker-wait-seconds> <image> <bucket> <region> [s3-endpoint]
# Runs this node's registry: the container swarm-registry on 127.0.0.1:5000, storing images in the
# S3 bucket. It has no access keys: the S3 driver takes the instance role's credentials from IMDSv2
# (hop limit 2, so a container reaches it). Configured by environment variables only. Replaces the
# container only when its settings change. Prints the container ID on stdout.
[ $# -ge 4 ] || die "usage: registry <docker-wait-seconds> <image> <bucket> <region> [s3-endpoint]"
image=$2
bucket=$3
region=$4
endpoint=${5:-}
[ -n "$image" ] || die "no registry image given; set the Registry's image (default registry:2)"
[ -n "$bucket" ] || die "no bucket given; the registry stores images in the Registry's S3 bucket"
[ -n "$region" ] || die "no region given for bucket $bucket; set aws:region on the stack"
case $endpoint in
  ""|http://*|https://*) ;;
  *) die "s3-endpoint must be an http:// or https:// URL, got '$endpoint'" ;;
esac
command -v curl >/dev/null 2>&1 || die "curl is not installed on $(hostname); install it (it checks that the registry answers)"
wait_docker "$1"

name=swarm-registry
port=5000
label=aws-swarm.registry.settings
# spec= names the shape of the docker run below: bump it when the run flags change, so that
# every node replaces its container on the next pulumi up.
settings="spec=1 image=$image bucket=$bucket region=$region endpoint=${endpoint:-aws}"

answers() {
  _code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/v2/" 2>/dev/null) || true
  # 401: an image configured with authentication still answers.
  [ "$_code" = 200 ] || [ "$_code" = 401 ]
}

start() {
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    log "pulling $image"
    if ! out=$(docker pull "$image" 2>&1); then
      printf '%s\n' "$out" >&2
      die "could not pull $image on $(hostname); give the node internet access (public subnet or NAT), or load the image (docker load) and run pulumi up again"
    fi
  fi
  set -- \
    -e REGISTRY_STORAGE=s3 \
    -e "REGISTRY_STORAGE_S3_BUCKET=$bucket" \
    -e "REGISTRY_STORAGE_S3_REGION=$region" \
    -e REGISTRY_STORAGE_DELETE_ENABLED=true \
    -e REGISTRY_STORAGE_REDIRECT_DISABLE=true \
    -e REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=inmemory
  # REGISTRY_STORAGE=s3 replaces the image's whole storage section, so the cache is set again.
  # Redirects stay off: pulls never leave the node with a presigned URL that carries the role's
  # session token; every byte goes through this node's registry.
  if [ -n "$endpoint" ]; then
    set -- "$@" -e "REGISTRY_STORAGE_S3_REGIONENDPOINT=$endpoint" -e REGISTRY_STORAGE_S3_FORCEPATHSTYLE=true
  fi
  case $(docker info -f '{{.LoggingDriver}}' 2>/dev/null) in
    json-file|local) set -- "$@" --log-opt max-size=10m --log-opt max-file=3 ;;
  esac
  if ! out=$(docker run -d --name "$name" --restart=always -p "127.0.0.1:$port:5000" \
      --label "$label=$settings" "$@" "$image" 2>&1); then
    docker rm -f "$name" >/dev/null 2>&1 || true
    printf '%s\n' "$out" >&2
    case $out in
      *"address already in use"*|*"port is already allocated"*)
        die "127.0.0.1:$port is taken on $(hostname); stop whatever listens there (ss -ltnp 'sport = :$port'), then run pulumi up again" ;;
    esac
    die "could not start the registry container on $(hostname)"
  fi
}

current=$(docker inspect -f "{{.State.Running}} {{index .Config.Labels \"$label\"}}" "$name" 2>/dev/null) || current=
case $current in
  "true $settings")
    log "$name already runs $image for bucket $bucket; nothing to do"
    ;;
  "")
    log "starting $name ($image, bucket $bucket in $region${endpoint:+ at $endpoint}) on 127.0.0.1:$port"
    start
    ;;
  *)
    log "replacing $name (was: ${current#* }; running: ${current%% *}) with $settings"
    docker rm -f "$name" >/dev/null 2>&1 || die "could not remove the old $name container on $(hostname)"
    start
    ;;
esac

end=$(( $(now) + 60 ))
until answers; do
  restarts=$(docker inspect -f '{{.RestartCount}}' "$name" 2>/dev/null) || restarts=0
  if [ "$(now)" -ge "$end" ] || [ "${restarts:-0}" -ge 3 ]; then
    state=$(docker inspect -f '{{.State.Status}} (exit code {{.State.ExitCode}}, {{.RestartCount}} restarts)' "$name" 2>/dev/null) || state=gone
    printf '%s\n' "---- last lines of 'docker logs $name':" >&2
    docker logs --tail 20 "$name" 2>&1 | sed 's/^/  /' >&2 || true
    die "the registry on $(hostname) does not answer on http://127.0.0.1:$port/v2/ (container $state); check the image ($image) and the log above, then run pulumi up again"
  fi
  nap
done
log "$name answers on 127.0.0.1:$port"
docker inspect -f '{{.Id}}' "$name"
