// Helpers for the registry's real-swarm test: a registry image built without a registry, and
// the instance metadata service at 169.254.169.254 for lab hosts: AWS's own emulator
// (github.com/aws/amazon-ec2-metadata-mock, built by scripts/imds-mock) run inside a network
// namespace of its own on the lab bridge. S3 is moto (test/swarm/moto.ts).
//
// What stays hand-written here, and why: the namespace with 169.254.169.254 and its IP TTL.
// ec2-metadata-mock is an HTTP server only; EC2's hop limit (httpPutResponseHopLimit) is the
// TTL of the metadata service's answers, which only a network namespace of its own can set, and
// the SDKs' built-in address 169.254.169.254 has to be a route on the hosts.
//
// Everything listens only on the lab bridge or inside namespaces created here; nothing touches
// the machine's own routes or its metadata path.
import { execFile, spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Lab } from "./lab";
import { imdsMockBinary } from "./imds-mock";

/** Address of the EC2 instance metadata service, as the AWS SDKs have it built in. */
export const IMDS_ADDRESS = "169.254.169.254";

/** Temporary credentials, as IMDS hands them to an instance role (from moto's STS here). */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

function run(file: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// ------------------------------------------------------------------ registry image

/** The base configuration of the lab's registry image; the registry step overrides it with env vars. */
export const REGISTRY_CONFIG = [
  "version: 0.1",
  "log:",
  "  fields:",
  "    service: registry",
  "storage:",
  "  cache:",
  "    blobdescriptor: inmemory",
  "  filesystem:",
  "    rootdirectory: /var/lib/registry",
  "http:",
  "  addr: :5000",
  "  headers:",
  "    X-Content-Type-Options: [nosniff]",
  "health:",
  "  storagedriver:",
  "    enabled: true",
  "    interval: 10s",
  "    threshold: 3",
  "",
].join("\n");

/**
 * Builds a docker-registry image tarball from Debian's `docker-registry` package, without any
 * registry: `apt-get download` (needs the package lists, i.e. a past `apt-get update`),
 * `dpkg-deb -x`, then a rootfs with the binary, the libraries ldd names and a config.yml.
 * Returns the path of the rootfs tar inside `dir`.
 */
export async function buildRegistryRootfs(dir: string): Promise<string> {
  const debs = () => fs.readdirSync(dir).filter((f) => /^docker-registry_.*\.deb$/.test(f));
  if (debs().length === 0) {
    try {
      // The temporary directory is private to root, so apt must not drop to its _apt user.
      await run("apt-get", ["download", "-q", "-o", "APT::Sandbox::User=root", "docker-registry"], { cwd: dir });
    } catch (e) {
      throw new Error(`could not download Debian's docker-registry package; run 'apt-get update' first (${String(e)})`);
    }
  }
  const deb = path.join(dir, debs()[0]);
  const unpacked = path.join(dir, "deb");
  await run("dpkg-deb", ["-x", deb, unpacked]);
  const binary = path.join(unpacked, "usr/bin/docker-registry");
  const rootfs = path.join(dir, "rootfs");
  const copy = (from: string, to: string) => {
    fs.mkdirSync(path.dirname(path.join(rootfs, to)), { recursive: true });
    fs.copyFileSync(from, path.join(rootfs, to)); // follows symlinks: the image gets real files
    fs.chmodSync(path.join(rootfs, to), 0o755);
  };
  copy(binary, "/usr/bin/docker-registry");
  // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  const libs = (await run("ldd", [binary]))
    .split("\n")
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => !!p);
  if (libs.length === 0) throw new Error(`ldd found no libraries for ${binary}; is it static now?`);
  for (const lib of libs) copy(lib, lib);
  fs.mkdirSync(path.join(rootfs, "etc/docker/registry"), { recursive: true });
  fs.writeFileSync(path.join(rootfs, "etc/docker/registry/config.yml"), REGISTRY_CONFIG);
  for (const d of ["var/lib/registry", "tmp"]) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.chmodSync(path.join(rootfs, "tmp"), 0o1777);
  const tar = path.join(dir, "registry-rootfs.tar");
  await run("tar", ["-C", rootfs, "-cf", tar, "."]);
  return tar;
}

/**
 * Imports the rootfs tar as `tag` on lab hosts `hosts`. The tar is copied into the lab's state
 * dir, which every host sees at the same path (and which `down` removes).
 */
export async function importRegistryImage(lab: Lab, hosts: number[], tar: string, tag: string): Promise<void> {
  const shared = path.join(lab.root, "registry-rootfs.tar");
  fs.copyFileSync(tar, shared);
  const changes = [
    `-c 'ENTRYPOINT ["/usr/bin/docker-registry","serve","/etc/docker/registry/config.yml"]'`,
    "-c 'EXPOSE 5000'",
  ].join(" ");
  await Promise.all(
    hosts.map(async (i) => {
      const r = await lab.exec(i, `docker import ${changes} ${shared} ${tag} >/dev/null`);
      if (r.code !== 0) throw new Error(`docker import on h${i} failed: ${r.stderr}`);
    }),
  );
}

// ------------------------------------------------------------------ IMDS

/** What the metadata service hands out: the instance role and its credentials. */
export interface ImdsConfig {
  role: string;
  credentials: RoleCredentials;
}

/** ec2-metadata-mock's config: the role's name and credentials at EC2's paths. */
function mockConfig(c: ImdsConfig): object {
  return {
    metadata: {
      paths: { "iam-security-credentials": `/latest/meta-data/iam/security-credentials/${c.role}` },
      values: {
        "iam-security-credentials-role": c.role,
        "iam-security-credentials": {
          Code: "Success",
          LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
          Type: "AWS-HMAC",
          AccessKeyId: c.credentials.accessKeyId,
          SecretAccessKey: c.credentials.secretAccessKey,
          Token: c.credentials.sessionToken,
          Expiration: c.credentials.expiration,
        },
      },
    },
  };
}

/**
 * The instance metadata service for lab hosts: a network namespace `<lab>-imds` on the lab
 * bridge holding 169.254.169.254/32, with ec2-metadata-mock (IMDSv2 only) running inside it. The namespace's
 * IP TTL is 2, like EC2's hop limit 2: a container one hop behind its host still gets answers.
 * Hosts reach it through a link route added by {@link LabImds.route}; the machine's own routes
 * are never touched.
 */
export class LabImds {
  readonly netns: string;
  private dir = "";
  private readonly veth: string;
  private child?: ChildProcess;

  constructor(private readonly lab: Lab, private readonly config: ImdsConfig) {
    this.netns = `${lab.name}-imds`;
    this.veth = `${lab.name}imds`;
  }

  /**
   * Creates the namespace and starts the emulator; resolves when it listens. Call it after the
   * lab is up: then this process owns the lab's name, and any namespace of that name is a
   * leftover of a killed run.
   */
  async start(): Promise<void> {
    const ns = this.netns;
    await this.removeLinks();
    await run("ip", ["netns", "add", ns]);
    await run("ip", ["link", "add", this.veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${this.veth}/disable_ipv6`, "1");
    await run("ip", ["link", "set", this.veth, "master", `${this.lab.name}br0`, "up"]);
    const inside = [
      "set -e",
      "echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6",
      "ip link set lo up",
      `ip addr add ${IMDS_ADDRESS}/32 dev eth0`,
      "ip link set eth0 up",
      `ip route add ${this.lab.net}.0/24 dev eth0`,
    ].join("\n");
    await run("nsenter", [`--net=/run/netns/${ns}`, "sh", "-c", inside]);
    await this.setHopLimit(2);

    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "imds-"));
    const config = path.join(this.dir, "config.json");
    fs.writeFileSync(config, JSON.stringify(mockConfig(this.config)), { mode: 0o600 });
    // -I: IMDSv2 only, as instances with httpTokens "required"; every GET needs a session token.
    const child = spawn("nsenter", [`--net=/run/netns/${ns}`, imdsMockBinary(), "-I", "-n", IMDS_ADDRESS, "-p", "80", "-c", config], {
      cwd: this.dir,
      env: { ...process.env, HOME: this.dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const end = Date.now() + 30_000;
    const probe = `curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://${IMDS_ADDRESS}/latest/api/token`;
    while ((await run("nsenter", [`--net=/run/netns/${ns}`, "sh", "-c", `${probe} || true`])).trim() !== "200") {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`ec2-metadata-mock did not answer in ${ns}: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sets the IP TTL of the emulator's answers: EC2's `httpPutResponseHopLimit`. */
  async setHopLimit(hops: number): Promise<void> {
    await run("nsenter", [`--net=/run/netns/${this.netns}`, "sh", "-c", `echo ${Number(hops)} >/proc/sys/net/ipv4/ip_default_ttl`]);
  }

  /** Lets lab host `i` reach 169.254.169.254 on its lab interface, as an EC2 instance does. */
  async route(i: number): Promise<void> {
    const r = await this.lab.exec(i, `ip route replace ${IMDS_ADDRESS}/32 dev eth0`);
    if (r.code !== 0) throw new Error(`route to IMDS on h${i}: ${r.stderr}`);
  }

  /** Stops the emulator and removes the namespace and its link; safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    await this.removeLinks();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async removeLinks(): Promise<void> {
    // Deleting one end of the veth pair deletes the other, even while a process keeps the
    // namespace alive.
    await run("ip", ["link", "delete", this.veth]).catch(() => undefined);
    await run("ip", ["netns", "delete", this.netns]).catch(() => undefined);
  }
}

/** A per-run scratch directory, removed by the caller. */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

