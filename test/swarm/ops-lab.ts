import * as assert from "node:assert";
import { execFile } from "node:child_process";
import { Lab } from "./lab";
import { Moto, MOTO_ENV } from "./moto";

/** Helpers of the autolock and backup suites: moto as AWS, and Docker restarts from inside a host. */

/** Access keys of an IAM identity in moto (a user's, or an assumed role's with its token). */
export interface AwsKeys { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_SESSION_TOKEN?: string }

/** The AWS CLI in the test's own namespace, against moto; `keys` once moto checks IAM. */
export function aws(moto: Moto, args: string[], keys?: AwsKeys): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("/usr/bin/aws", ["--endpoint-url", moto.endpoint, "--output", "text", ...args], { env: { ...process.env, ...MOTO_ENV, ...keys } }, (e, out, err) =>
      e ? reject(new Error(`aws ${args.join(" ")}: ${err || e.message}`)) : resolve(out.trim()));
  });
}

/**
 * The lab runs dockerd without systemd, so a host that stops and starts its own daemon (backup,
 * restore) does it through AWS_SWARM_DOCKER_CTL: this replays the running dockerd's command line.
 */
const DOCKER_CTL = `#!/bin/sh
set -eu
argv=/run/lab-dockerd.argv
gone() { [ ! -d "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }
case $1 in
  stop)
    p=$(cat /run/docker.pid)
    tr '\\0' '\\n' <"/proc/$p/cmdline" >"$argv"
    kill -TERM "$p"
    i=0
    until gone "$p"; do i=$((i + 1)); [ $i -lt 600 ] || { echo "dockerd $p did not stop" >&2; exit 1; }; sleep 0.1; done
    ;;
  start)
    set --
    while IFS= read -r a; do set -- "$@" "$a"; done <"$argv"
    for f in /run/docker.pid /run/docker/containerd/containerd.pid; do
      p=$(cat "$f" 2>/dev/null || true)
      if [ -z "$p" ] || gone "$p"; then rm -f "$f"; fi
    done
    DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid "$@" </dev/null >>/var/log/lab-dockerd.log 2>&1 &
    i=0
    until docker info >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 600 ] || { echo "dockerd did not answer" >&2; exit 1; }; sleep 0.1; done
    ;;
esac
`;

/** Points host i's aws_cli at moto and lets its programs restart its dockerd. */
export async function prepareHost(lab: Lab, i: number, moto: Moto): Promise<void> {
  const script = [
    "set -eu", "mkdir -p /etc/aws-swarm /usr/local/sbin",
    `cat >/etc/aws-swarm/aws.env <<'EOF'\n${moto.awsEnv()}EOF`,
    `cat >/usr/local/sbin/lab-dockerctl <<'EOF'\n${DOCKER_CTL}EOF`,
    "chmod 755 /usr/local/sbin/lab-dockerctl",
    "echo AWS_SWARM_DOCKER_CTL=/usr/local/sbin/lab-dockerctl >/etc/aws-swarm/docker.env",
  ].join("\n");
  const r = await lab.exec(i, script);
  assert.strictEqual(r.code, 0, `preparing h${i}: ${r.stderr}`);
}

/** A KMS key and a secret for the unlock key, as SwarmOperations makes them. */
export async function stackKeys(moto: Moto, name: string): Promise<{ keyArn: string; secretArn: string }> {
  const keyArn = await aws(moto, ["kms", "create-key", "--query", "KeyMetadata.Arn"]);
  const secretArn = await aws(moto, ["secretsmanager", "create-secret", "--name", name, "--kms-key-id", keyArn, "--query", "ARN"]);
  return { keyArn, secretArn };
}

/** The value (and version) of the unlock-key secret at a stage. */
export async function storedKey(moto: Moto, secretId: string, stage = "AWSCURRENT", keys?: AwsKeys): Promise<{ key: string; version: string }> {
  const out = await aws(moto, ["secretsmanager", "get-secret-value", "--secret-id", secretId, "--version-stage", stage, "--query", "[VersionId,SecretString]"], keys);
  const [version, key] = out.split("\t");
  return { key, version };
}

/** Reachability of host i as a manager, seen by itself. */
export async function reachability(lab: Lab, i: number): Promise<string> {
  return (await lab.exec(i, "docker node inspect self -f '{{.ManagerStatus.Reachability}}'")).stdout.trim();
}
