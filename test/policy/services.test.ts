import * as assert from "node:assert";
import { DOCKER_SERVICE_TYPE, swarmNoHostRootServices } from "../../policy/rules/services";
import { runPolicy, untypedResourceArgs } from "../helpers/policy";

const service = (containerSpec: Record<string, unknown> | undefined) =>
  untypedResourceArgs(DOCKER_SERVICE_TYPE, { name: "agent", taskSpec: containerSpec === undefined ? {} : { containerSpec } }, { name: "agent" });

describe("swarm-no-host-root-services", () => {
  const policy = swarmNoHostRootServices;

  it("passes a plain service with a volume mount", async () => {
    const args = service({ image: "nginx", mounts: [{ type: "volume", source: "data", target: "/data" }, { type: "bind", source: "/srv/www", target: "/www" }] });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });

  it("reports added capabilities and bind mounts of / and the Docker socket", async () => {
    const args = service({
      image: "agent",
      capAdds: ["NET_ADMIN", "SYS_ADMIN"],
      mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }, { type: "bind", source: "/", target: "/host" }],
    });
    assert.deepStrictEqual(await runPolicy(policy, args), [
      'Docker service "agent" adds capabilities "NET_ADMIN", "SYS_ADMIN", which makes its tasks root on their nodes; remove it.',
      'Docker service "agent" bind-mounts "/var/run/docker.sock" (mounts[0]), which makes its tasks root on their nodes; remove it.',
      'Docker service "agent" bind-mounts "/" (mounts[1]), which makes its tasks root on their nodes; remove it.',
    ]);
  });

  it("passes a service whose task spec leaves the container spec unset", async () => {
    assert.deepStrictEqual(await runPolicy(policy, service(undefined)), []);
  });

  it("ignores other resource types", async () => {
    const args = untypedResourceArgs("docker:index/container:Container", { capabilities: { adds: ["ALL"] } });
    assert.deepStrictEqual(await runPolicy(policy, args), []);
  });
});
