/**
 * The user data of a worker group's instances: install Docker, install the step scripts, write
 * the group's settings, and run the boot program (scripts/worker-boot.sh) that joins the swarm.
 * Pure string rendering, so tests can run the very same text on lab hosts.
 */
import { gzipSync, gunzipSync } from "zlib";
import { renderInstallCommand, shellQuote, STEPS_DIR, stepScript, stepsVersion } from "./scripts";

/** What the boot program needs to know; none of it is secret. */
export interface WorkerBootSettings {
  /** The group's name (the `group` node label). */
  group: string;
  /** SSM parameter holding the worker join token (SecureString). */
  tokenParameter: string;
  /** SSM parameter holding the manager addresses, comma-separated (String). */
  managersParameter: string;
  /** AWS region of the parameters and the group. */
  region: string;
  /** Seconds an instance may take to join before it marks itself Unhealthy. */
  joinSeconds: number;
  /** The bootstrap's worker token step, named in the advice when the token is rejected. */
  tokenStep: string;
  /** Extra node labels of the group. */
  labels: Record<string, string>;
  /** The node's registry (image, bucket, region), when the cluster runs one. */
  registry?: { image: string; bucket: string; region: string };
}

/** Where the boot program and the registry step are installed on an instance. */
export const WORKER_BOOT_PATH = "/usr/local/sbin/aws-swarm-worker-boot";
export const WORKER_REGISTRY_PATH = "/usr/local/sbin/aws-swarm-registry";
/** The settings file worker-boot.sh reads. */
export const WORKER_GROUP_ENV = "/etc/aws-swarm/worker-group.env";

const END = "AWS_SWARM_FILE_EOF";

/** A here-document that writes `text` to `file` verbatim. */
function writeFile(file: string, text: string, mode?: string): string {
  if (text.split("\n").includes(END)) throw new Error(`${file} contains the line ${END}`);
  return [`cat >${file} <<'${END}'`, text, END, ...(mode ? [`chmod ${mode} ${file}`] : [])].join("\n");
}

/** The settings as a sourceable file; every value quoted. */
export function workerGroupEnv(s: WorkerBootSettings): string {
  const labels = Object.keys(s.labels).sort().map((k) => `${k}=${s.labels[k]}`).join(" ");
  const vars: Record<string, string> = {
    AWS_SWARM_GROUP: s.group,
    AWS_SWARM_TOKEN_PARAMETER: s.tokenParameter,
    AWS_SWARM_MANAGERS_PARAMETER: s.managersParameter,
    AWS_DEFAULT_REGION: s.region,
    AWS_SWARM_JOIN_SECONDS: String(s.joinSeconds),
    AWS_SWARM_TOKEN_STEP_NAME: s.tokenStep,
    AWS_SWARM_STEPS: `${STEPS_DIR}/${stepsVersion()}`,
    AWS_SWARM_LABELS: labels,
    ...(s.registry ? {
      AWS_SWARM_REGISTRY: WORKER_REGISTRY_PATH,
      AWS_SWARM_REGISTRY_IMAGE: s.registry.image,
      AWS_SWARM_REGISTRY_BUCKET: s.registry.bucket,
      AWS_SWARM_REGISTRY_REGION: s.registry.region,
    } : {}),
  };
  return Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v)}`).join("\n");
}

/** The user data script, as plain text (see {@link workerUserDataBase64} for the launch template). */
export function workerUserData(s: WorkerBootSettings): string {
  return [
    "#!/bin/sh",
    `# aws-swarm worker group ${s.group}: joins the swarm by itself at boot. Nothing here is secret:`,
    "# the join token is read from SSM Parameter Store with the instance role.",
    "set -eu",
    // The lab's hosts and custom AMIs already have Docker; Amazon Linux 2023 gets it from dnf,
    // retried because a node in a private subnet can boot before its NAT route works.
    "if ! command -v docker >/dev/null 2>&1; then",
    "  for attempt in 1 2 3 4 5 6 7 8 9 10; do",
    "    if dnf install -y docker; then break; fi",
    '    if [ "$attempt" = 10 ]; then echo "docker install failed after 10 attempts" >&2; exit 1; fi',
    "    sleep 15",
    "  done",
    "fi",
    "if [ -d /run/systemd/system ]; then systemctl enable --now docker; fi",
    // The same join step the bootstrap runs over SSH, installed the same way.
    `(${renderInstallCommand()})`,
    "mkdir -p /etc/aws-swarm /usr/local/sbin",
    writeFile(WORKER_GROUP_ENV, workerGroupEnv(s)),
    writeFile(WORKER_BOOT_PATH, `#!/bin/sh\n${stepScript("worker-boot")}`, "755"),
    ...(s.registry ? [writeFile(WORKER_REGISTRY_PATH, `#!/bin/sh\n${stepScript("registry")}`, "755")] : []),
    `exec ${WORKER_BOOT_PATH}`,
    "",
  ].join("\n");
}

/**
 * Base64 of the gzipped user data (cloud-init unpacks gzip itself): the steps, the boot program
 * and the registry step are well over EC2's 16 KiB limit as plain text. Node's gzip header
 * carries no timestamp, so the same settings always give the same bytes and no diff.
 */
export function workerUserDataBase64(s: WorkerBootSettings): string {
  return gzipSync(Buffer.from(workerUserData(s)), { level: 9 }).toString("base64");
}

/** The plain text back from {@link workerUserDataBase64}, for tests and for reading a template. */
export function decodeWorkerUserData(base64: string): string {
  return gunzipSync(Buffer.from(base64, "base64")).toString("utf8");
}
