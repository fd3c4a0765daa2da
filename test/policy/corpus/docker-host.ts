import * as aws from "@pulumi/aws";
import { CorpusProgram } from "./program";

/** One EC2 Docker host serving a web app with a database container, as quick starts do. */
export const dockerHost: CorpusProgram = {
  title: "a single Docker host on EC2 with SSH open and a database password in user data",
  build: () => {
    const sg = new aws.ec2.SecurityGroup("web-sg", {
      description: "web and ssh",
      ingress: [
        { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] },
        { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] },
      ],
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
    new aws.ec2.Instance("web", {
      ami: "ami-0c02fb55956c7d316",
      instanceType: "t3.small",
      vpcSecurityGroupIds: [sg.id],
      keyName: "ops",
      userData: [
        "#!/bin/bash",
        "dnf install -y docker && systemctl enable --now docker",
        "docker network create app",
        "docker run -d --network app --name db -e MYSQL_ROOT_PASSWORD=Sup3rS3cret mysql:8",
        "docker run -d --network app -p 80:80 -e DB_HOST=db nginx:stable",
      ].join("\n"),
      tags: { Name: "web" },
    });
  },
  expected: [
    "swarm-no-ssh-from-world-or-unlisted-cidrs web-sg",
    "swarm-no-imdsv1 web (advisory)",
    "swarm-no-unencrypted-ebs web",
    "swarm-no-secrets-in-user-data-or-tags web",
  ],
};
