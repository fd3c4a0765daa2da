// Self-test of the swarm lab (scripts/swarm-lab + test/swarm/lab.ts): real dockerd and
// sshd per host. Uses its own lab name and network so it can run beside other labs.
import assert from "node:assert";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import { Lab } from "./lab";

const N = 3;

function links(): string[] {
    return execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => l.split(": ")[1].replace(/@.*/, ""));
}

describe("swarm lab", function () {
    this.timeout(60_000);
    const lab = new Lab({ name: "slt", net: "10.238.0" });

    before(async function () {
        await lab.up(N); // replaces a lab left by a killed run; fails if another run uses it
    });

    after(async function () {
        await lab.down(); // idempotent; runs even when a test or before() failed
    });

    it("every host answers docker info over ssh with its own hostname", async function () {
        const results = await Promise.all(
            [1, 2, 3].map((i) => lab.ssh(i, "hostname; docker info -f '{{.Name}} {{.Driver}}'; uname -n")),
        );
        results.forEach((r, k) => {
            const i = k + 1;
            assert.strictEqual(r.code, 0, r.stderr);
            assert.deepStrictEqual(r.stdout.trim().split("\n"), [
                lab.hostName(i),
                `${lab.hostName(i)} overlay2`,
                lab.hostName(i),
            ]);
        });
    });

    it("gives each host its address, the lab key and the local busybox image", async function () {
        assert.strictEqual(lab.addr(2), "10.238.0.12");
        assert.match(lab.privateKey(), /BEGIN OPENSSH PRIVATE KEY/);
        assert.ok(fs.readFileSync(lab.sshConfigPath, "utf8").includes("HostName 10.238.0.13"));
        const r = await lab.exec(2, "ip -o -4 addr show dev eth0; docker image ls --format '{{.Repository}}:{{.Tag}}'");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /inet 10\.238\.0\.12\/24/);
        assert.match(r.stdout, /^localhost\/busybox:latest$/m);
    });

    it("hosts reach each other, but no host has a default route", async function () {
        const ping = await lab.exec(1, `busybox ping -c1 -W2 ${lab.addr(2)} && busybox ping -c1 -W2 ${lab.addr(3)}`);
        assert.strictEqual(ping.code, 0, ping.stdout + ping.stderr);
        const back = await lab.ssh(3, `busybox ping -c1 -W2 ${lab.addr(1)}`);
        assert.strictEqual(back.code, 0, back.stdout + back.stderr);
        for (const i of [1, 2, 3]) {
            const routes = await lab.exec(i, "ip route show; ip route get 192.0.2.1 2>&1 || true");
            assert.strictEqual(routes.code, 0, routes.stderr);
            assert.doesNotMatch(routes.stdout, /default/);
            assert.match(routes.stdout, /unreachable/i);
        }
    });

    it("runs a busybox container with --network none", async function () {
        const r = await lab.ssh(
            2,
            "docker run --rm --network none localhost/busybox:latest sh -c 'echo ok-$((6*7)); ls /sys/class/net'",
        );
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(r.stdout.trim().split("\n"), ["ok-42", "lo"]);
    });

    it("passes stdin through ssh and exec", async function () {
        const a = await lab.ssh(1, "cat | tr a-z A-Z", { stdin: "secret-token\n" });
        assert.deepStrictEqual([a.code, a.stdout], [0, "SECRET-TOKEN\n"]);
        const b = await lab.exec(1, "cat; exit 3", { stdin: "x" });
        assert.deepStrictEqual([b.code, b.stdout], [3, "x"]);
    });

    it("stops and starts one host", async function () {
        await lab.stop(3);
        const down = await lab.ssh(3, "true", { timeoutMs: 15_000 });
        assert.notStrictEqual(down.code, 0, "ssh still answers after stop");
        const noDocker = await lab.exec(3, "docker info -f '{{.Name}}'");
        assert.notStrictEqual(noDocker.code, 0, "docker still answers after stop");
        const other = await lab.ssh(1, "docker info -f '{{.Name}}'");
        assert.strictEqual(other.stdout.trim(), lab.hostName(1), "other hosts are untouched");

        await lab.start(3);
        const up = await lab.ssh(3, "docker info -f '{{.Name}}'");
        assert.strictEqual(up.code, 0, up.stderr);
        assert.strictEqual(up.stdout.trim(), lab.hostName(3));
    });

    it("down leaves no netns, bridge, veth, cgroup or state dir", async function () {
        await lab.down();
        assert.ok(!fs.existsSync(lab.root), `${lab.root} still exists`);
        const netns = fs.existsSync("/run/netns") ? fs.readdirSync("/run/netns") : [];
        assert.deepStrictEqual(netns.filter((n) => n.startsWith("slt-")), []);
        assert.deepStrictEqual(links().filter((l) => /^slt(v\d+|br0)$/.test(l)), []);
        const cgroups = fs
            .readdirSync("/sys/fs/cgroup")
            .filter((h) => fs.existsSync(`/sys/fs/cgroup/${h}/swarm-lab/slt`));
        assert.deepStrictEqual(cgroups, []);
        await lab.down(); // idempotent
    });
});
