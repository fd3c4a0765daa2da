import * as assert from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { controlConnectionOf, listedControlIndex, SwarmBootstrap, SwarmHost } from "../../components/bootstrap";
import { SwarmCluster } from "../../components/cluster";
import { REMOVE_DIAL_LIMIT } from "../../components/compose";
import { created, mockInstanceAddresses, unwrapSecret, valueOf } from "../helpers/mocks";
import { whenSettled } from "../helpers/policy";

/**
 * Work that needs a manager goes through the manager the bootstrap's probe found able to act,
 * not through manager-1 (issue 11). The probe itself runs here for real (components/control.ts
 * spawns `ssh`); only `ssh` is a stand-in, first on PATH, that answers as a manager for the
 * addresses the test names and fails like an unreachable host for every other one.
 */
type Recorded = pulumi.runtime.MockResourceArgs;

function fakeSsh(answering: string[]): { dir: string; restore: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-ssh-"));
  // The probe passes the host as the last argument but one (the remote command is the last).
  const script = [
    "#!/bin/sh",
    "cat >/dev/null",
    'host=; last=; for a in "$@"; do host=$last; last=$a; done',
    `case " ${answering.join(" ")} " in *" $host "*) echo "control node-$host"; exit 0 ;; esac`,
    'echo "ssh: connect to host $host port 22: Connection refused" >&2',
    "exit 255",
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "ssh"), script, { mode: 0o755 });
  const saved = { path: process.env.PATH, probe: process.env.AWS_SWARM_PROBE };
  process.env.PATH = `${dir}:${saved.path}`;
  process.env.AWS_SWARM_PROBE = "on";
  return {
    dir,
    restore: () => {
      process.env.PATH = saved.path;
      process.env.AWS_SWARM_PROBE = saved.probe;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const hostOf = (r: Recorded) => (unwrapSecret(r.inputs.connection) as { host: string }).host;
const named = (name: string): Recorded => {
  const r = created.find((x) => x.name === name);
  assert.ok(r, `no resource ${name}; have ${created.map((x) => x.name).join(", ")}`);
  return r;
};

describe("where work that needs a manager runs", () => {
  it("keeps a listed manager: a former one that answered, or no answer at all, gives the first", () => {
    assert.deepStrictEqual([listedControlIndex(-1, 3), listedControlIndex(0, 3), listedControlIndex(2, 3), listedControlIndex(3, 3), listedControlIndex(5, 3)], [0, 0, 2, 0, 0]);
  });

  describe("SwarmBootstrap with manager-1 not answering", () => {
    const host = (name: string, ip: string): SwarmHost => ({ name, privateIp: ip, connection: { host: ip, user: "root", privateKey: pulumi.secret("KEY") } });
    const managers = [host("manager-1", "10.9.7.10"), host("manager-2", "10.9.7.11"), host("manager-3", "10.9.7.12")];
    let ssh: ReturnType<typeof fakeSsh>;
    let b: SwarmBootstrap;
    before(async () => {
      ssh = fakeSsh(["10.9.7.11", "10.9.7.12"]);
      b = new SwarmBootstrap("ctlb", { managers, workers: [host("worker-1", "10.9.7.20")] });
      await valueOf(b.ready, 20000);
      await whenSettled(created);
    });
    after(() => ssh.restore());

    it("reports the first manager that answered as controlAddress and controlManagerIndex", async () => {
      assert.strictEqual(await valueOf(b.controlAddress), "10.9.7.11");
      assert.strictEqual(await valueOf(b.controlManagerIndex), 1);
    });

    it("runs the token reads, the workers' label steps, prune and rebalance there", () => {
      for (const step of ["manager-token", "worker-token", "worker-1-member", "prune", "rebalance"]) {
        assert.strictEqual(hostOf(named(`ctlb-${step}`)), "10.9.7.11", step);
      }
    });

    it("hands out that manager's own connection, secret", async () => {
      const c = controlConnectionOf(managers, b.controlManagerIndex);
      assert.ok(await pulumi.isSecret(c));
      assert.deepStrictEqual(await valueOf(c), { host: "10.9.7.11", user: "root", privateKey: "KEY" });
    });
  });

  describe("SwarmCluster with manager-1 not answering", () => {
    // Reserved now, so the stand-in ssh knows the addresses before the instances register.
    const m = [1, 2, 3].map((i) => mockInstanceAddresses(`ctlc-managers-manager-${i}`));
    let ssh: ReturnType<typeof fakeSsh>;
    let cluster: SwarmCluster;
    before(async () => {
      // Public placement: the bootstrap dials the public addresses.
      ssh = fakeSsh([m[1].publicIp, m[2].publicIp]);
      cluster = new SwarmCluster("ctlc", {
        sshAllowedCidrs: ["198.51.100.0/24"],
        services: [{ name: "web", image: "nginx:1.27" }],
        stacks: [{ name: "shop", composeFile: "test/fixtures/compose/v3.yml" }],
        stackSecrets: { "db-password": pulumi.secret("pw") },
      });
      await valueOf(cluster.workerJoinToken, 20000);
      await whenSettled(created);
    });
    after(() => ssh.restore());

    it("exports manager-2's private address as controlAddress", async () => {
      assert.strictEqual(await valueOf(cluster.controlAddress), m[1].privateIp);
      assert.notStrictEqual(m[1].privateIp, m[0].privateIp);
    });

    it("points the Docker provider and its access step at manager-2", () => {
      assert.strictEqual(named("ctlc-services-docker").inputs.host, `ssh://ec2-user@${m[1].publicIp}:22`);
      const access = named("ctlc-services-docker-access");
      assert.strictEqual(hostOf(access), m[1].publicIp);
      assert.deepStrictEqual(access.inputs.triggers, [m[1].publicIp]);
    });

    it("deploys and removes the compose stack from manager-2, the removal with a short dial bound", () => {
      const deploy = unwrapSecret(named("ctlc-stack-shop-deploy").inputs.connection) as Record<string, unknown>;
      const remove = unwrapSecret(named("ctlc-stack-shop-remove").inputs.connection) as Record<string, unknown>;
      assert.strictEqual(deploy.host, m[1].publicIp);
      assert.strictEqual(deploy.user, "ec2-user");
      assert.strictEqual(deploy.dialErrorLimit, 60);
      assert.deepStrictEqual({ ...remove, dialErrorLimit: 60 }, deploy);
      assert.strictEqual(remove.dialErrorLimit, REMOVE_DIAL_LIMIT);
    });
  });
});
