// `npm run lab`: this project's SwarmBootstrap on local lab hosts, for people without AWS.
// `npm run lab` brings up 6 hosts and builds 3 managers + 3 workers with the real step scripts
// over SSH; `npm run lab -- down` runs every delete hook (drain, demote, remove, leave) and tears
// the hosts down. Needs root and the lab's Debian packages (README "Swarm lab").
//
// The steps run through test/swarm/harness.ts, which drives the same remote commands the way
// the engine and @pulumi/command do. A real `pulumi up` needs pulumi-resource-command, which
// cannot be built on this project's machines (tools/engine/README.md).
import * as pulumi from "@pulumi/pulumi";
import { SwarmBootstrap, SwarmHost } from "../components/bootstrap";
import { labHost } from "../test/swarm/cluster";
import { SwarmHarness } from "../test/swarm/harness";
import { Lab } from "../test/swarm/lab";

const MANAGERS = 3;
const WORKERS = 3;
const lab = new Lab({ name: process.env.LAB ?? "demo", net: process.env.LAB_NET ?? "10.239.0" });
const say = (msg: string) => process.stderr.write(`lab: ${msg}\n`);

function program(): pulumi.Output<unknown> {
  const managers: SwarmHost[] = Array.from({ length: MANAGERS }, (_, k) => labHost(lab, k + 1, `manager-${k + 1}`));
  const workers: SwarmHost[] = Array.from({ length: WORKERS }, (_, w) => labHost(lab, MANAGERS + w + 1, `worker-${w + 1}`));
  return new SwarmBootstrap("lab", { managers, workers, dockerWaitSeconds: 60 }).ready;
}

async function up(harness: SwarmHarness): Promise<void> {
  if (!lab.exists()) {
    say(`starting ${MANAGERS + WORKERS} hosts on ${lab.net}.0/24`);
    await lab.up(MANAGERS + WORKERS);
  }
  const { ran } = await harness.deploy(program);
  for (const r of ran.filter((x) => x.commandText)) say(`${r.name}: ${r.stderr.split("\n").pop()}`);
  const ls = await lab.exec(1, "docker node ls");
  process.stdout.write(`${ls.stdout}`);
  say(`log in: LAB=${lab.name} LAB_NET=${lab.net} scripts/swarm-lab ssh 1; tear down: npm run lab -- down`);
}

async function down(harness: SwarmHarness): Promise<void> {
  if (!lab.exists()) return say(`no lab ${lab.name} is running`);
  // The harness keeps no state between processes: deploy again (every step says "nothing to
  // do"), then run every delete hook as `pulumi destroy` would.
  await harness.deploy(program);
  for (const r of await harness.destroy()) if (r.commandText) say(`${r.name}: ${r.stderr.split("\n").pop()}`);
  await lab.down();
  say("hosts torn down");
}

async function main(): Promise<void> {
  const verb = process.argv[2] ?? "up";
  if (verb !== "up" && verb !== "down") throw new Error(`unknown verb ${JSON.stringify(verb)}; use: npm run lab [-- up|down]`);
  const harness = new SwarmHarness();
  try {
    await (verb === "up" ? up(harness) : down(harness));
  } finally {
    harness.dispose();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    say(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
