// A consumer of the aws-swarm package: a Pulumi program of its own that turns hosts it already
// has (reachable over SSH, running Docker) into one swarm with SwarmBootstrap. It imports only
// the package's public entry point, as installed from the packed tarball.
import * as pulumi from "@pulumi/pulumi";
import { SwarmBootstrap, SwarmHost } from "aws-swarm";

/** One host as written in stack config: its stable name and the address Swarm uses. */
interface HostConfig {
  name: string;
  address: string;
}

const config = new pulumi.Config();
const user = config.get("user") ?? "root";
// The SSH key is secret config (`pulumi config set --secret privateKey < key`), so it is
// encrypted in state and never shown.
const privateKey = config.requireSecret("privateKey");

const host = (h: HostConfig): SwarmHost => ({
  name: h.name,
  privateIp: h.address,
  connection: { host: h.address, user, privateKey },
});

const swarm = new SwarmBootstrap("swarm", {
  managers: config.requireObject<HostConfig[]>("managers").map(host),
  workers: (config.getObject<HostConfig[]>("workers") ?? []).map(host),
});

export const leaderAddress = swarm.leaderAddress;
export const managerJoinToken = swarm.managerJoinToken;
export const workerJoinToken = swarm.workerJoinToken;
export const ready = swarm.ready;
