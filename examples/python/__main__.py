"""A Python consumer of aws-swarm: SwarmBootstrap through the generated Python SDK.

The SDK (pulumi_aws_swarm, in sdk/) is generated from the schema the component provider host
infers from the TypeScript components; see README.md for how, and for what is blocked here.
"""
import pulumi
import pulumi_aws_swarm as swarm

config = pulumi.Config()
user = config.get("user") or "root"
private_key = config.require_secret("privateKey")


def host(h: dict) -> swarm.SwarmHostArgs:
    return swarm.SwarmHostArgs(
        name=h["name"],
        private_ip=h["address"],
        connection=swarm.ConnectionArgsArgs(host=h["address"], user=user, private_key=private_key),
    )


bootstrap = swarm.SwarmBootstrap(
    "swarm",
    managers=[host(h) for h in config.require_object("managers")],
    workers=[host(h) for h in (config.get_object("workers") or [])],
)

pulumi.export("leaderAddress", bootstrap.leader_address)
pulumi.export("managerJoinToken", bootstrap.manager_join_token)
pulumi.export("workerJoinToken", bootstrap.worker_join_token)
