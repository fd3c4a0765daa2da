import * as assert from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { SwarmBootstrap, SwarmBootstrapArgs, SwarmHost } from "../../components/bootstrap";
import { Lab } from "./lab";

/** Helpers shared by the real-swarm tests: lab hosts as SwarmHosts, and views of the swarm. */

export interface NodeRow {
  id: string;
  hostname: string;
  status: string;
  availability: string;
  manager: string;
}

/** Lab host `i` as a SwarmHost called `name`, spread over three pretend AZs. */
export function labHost(lab: Lab, i: number, name: string): SwarmHost {
  return {
    name,
    privateIp: lab.addr(i),
    connection: { host: lab.addr(i), user: "root", privateKey: pulumi.secret(lab.privateKey()) },
    labels: { az: `lab-${"abc"[i % 3]}` },
  };
}

/** A program for the harness: the bootstrap over the given hosts, done when every node is ready. */
export function bootstrapProgram(name: string, args: SwarmBootstrapArgs) {
  let bootstrap: SwarmBootstrap | undefined;
  const program = () => {
    bootstrap = new SwarmBootstrap(name, args);
    return pulumi.all([bootstrap.ready, bootstrap.managerJoinToken, bootstrap.workerJoinToken]);
  };
  return { program, get: () => bootstrap! };
}

/** `docker node ls` as seen from lab host `i`. */
export async function nodes(lab: Lab, i: number): Promise<NodeRow[]> {
  const r = await lab.exec(i, "docker node ls --format '{{.ID}}|{{.Hostname}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}'");
  assert.strictEqual(r.code, 0, `node ls on h${i} failed: ${r.stderr}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((line) => {
    const [id, hostname, status, availability, manager] = line.split("|");
    return { id, hostname, status, availability, manager };
  });
}

/** Swarm state of lab host `i`: inactive, active, pending, ... */
export async function swarmState(lab: Lab, i: number): Promise<string> {
  return (await lab.exec(i, "docker info -f '{{.Swarm.LocalNodeState}}'")).stdout.trim();
}

/** Polls `check` until it returns a value, or fails after `ms` with the last reason. */
export async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until host `i` sees exactly `want` nodes, all Ready, and a leader. */
export async function settled(lab: Lab, i: number, want: number, ms = 60000): Promise<NodeRow[]> {
  return eventually(`${want} Ready nodes with a leader seen from h${i}`, ms, async () => {
    const rows = await nodes(lab, i);
    const ok = rows.length === want && rows.every((r) => r.status === "Ready") && rows.some((r) => r.manager === "Leader");
    return ok ? rows : undefined;
  });
}

/** Running tasks of a service, by node hostname. */
export async function runningTasks(lab: Lab, i: number, service: string): Promise<string[]> {
  const r = await lab.exec(i, `docker service ps ${service} -f desired-state=running --format '{{.Node}} {{.CurrentState}}'`);
  return r.stdout.trim().split("\n").filter((l) => / Running /.test(l)).map((l) => l.split(" ")[0]);
}
