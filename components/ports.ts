/**
 * The Swarm port matrix as data. The Network component builds its security groups from it and
 * the policy pack checks rules against it, so the two can never disagree.
 * Source: https://docs.docker.com/engine/swarm/swarm-tutorial/#open-protocols-and-ports-between-the-hosts
 *
 * @module
 */

/** An IP protocol as the EC2 API names it ("-1" is every protocol, "50" is ESP). */
export type IpProtocol = "tcp" | "udp" | "50" | "-1";

/** Which security group a rule opens a port on. */
export type PortTarget = "nodes" | "managers";

/** One rule of the port matrix: what is opened, on which group, and why. */
export interface SwarmPort {
  /** Stable kebab-case purpose; used in resource names, so never change one. */
  purpose: string;
  /** IP protocol, as EC2 names it. */
  protocol: IpProtocol;
  /** First port of the range (0 for protocols without ports). */
  fromPort: number;
  /** Last port of the range (0 for protocols without ports). */
  toPort: number;
  /** The group the rule is attached to; the source is always the `nodes` group. */
  target: PortTarget;
  /** Security group rule description: what the port is for. */
  description: string;
}

/** SSH: bootstrap and admin, only from `sshAllowedCidrs` or the bastion. */
export const SSH_PORT = 22;
/** Swarm cluster management (Raft, joins), tcp, managers only. */
export const SWARM_MANAGEMENT_PORT = 2377;
/** Swarm node gossip, tcp and udp. */
export const GOSSIP_PORT = 7946;
/** Overlay network traffic (VXLAN), udp. */
export const VXLAN_PORT = 4789;
/** IP protocol number of ESP, which encrypted overlays use. */
export const ESP_PROTOCOL = "50";
/** Docker's unauthenticated (2375) and TLS (2376) API: remote root on the host. Never opened. */
export const DOCKER_API_PORTS: readonly number[] = [2375, 2376];
/** Registry on every node; bound to 127.0.0.1 and never opened in a security group. */
export const REGISTRY_PORT = 5000;

/** Intra-cluster ports: only ever reachable from the `nodes` security group. */
export const SWARM_PORTS: readonly SwarmPort[] = [
  {
    purpose: "swarm-management",
    protocol: "tcp",
    fromPort: SWARM_MANAGEMENT_PORT,
    toPort: SWARM_MANAGEMENT_PORT,
    target: "managers",
    description: "Swarm cluster management (Raft, joins) from cluster nodes",
  },
  {
    purpose: "gossip-tcp",
    protocol: "tcp",
    fromPort: GOSSIP_PORT,
    toPort: GOSSIP_PORT,
    target: "nodes",
    description: "Swarm node gossip (tcp) from cluster nodes",
  },
  {
    purpose: "gossip-udp",
    protocol: "udp",
    fromPort: GOSSIP_PORT,
    toPort: GOSSIP_PORT,
    target: "nodes",
    description: "Swarm node gossip (udp) from cluster nodes",
  },
  {
    purpose: "overlay-vxlan",
    protocol: "udp",
    fromPort: VXLAN_PORT,
    toPort: VXLAN_PORT,
    target: "nodes",
    description: "Overlay network VXLAN traffic from cluster nodes",
  },
  {
    purpose: "overlay-esp",
    protocol: ESP_PROTOCOL,
    fromPort: 0,
    toPort: 0,
    target: "nodes",
    description: "IPsec ESP for encrypted overlay networks from cluster nodes",
  },
];

/** Ports that must never be reachable from 0.0.0.0/0 or ::/0. */
export const NEVER_WORLD_OPEN_PORTS: readonly number[] = [
  SSH_PORT,
  ...DOCKER_API_PORTS,
  SWARM_MANAGEMENT_PORT,
  GOSSIP_PORT,
  VXLAN_PORT,
];

/** The whole IPv4 and IPv6 internet: never a source of SSH or Swarm traffic. */
export const WORLD_CIDRS: readonly string[] = ["0.0.0.0/0", "::/0"];

/** Manager counts that keep a Raft majority with the fewest nodes; more than 7 slows Raft. */
export const ALLOWED_MANAGER_COUNTS: readonly number[] = [1, 3, 5, 7];

/** Tag key the components set on instances: `manager` or `worker`; the policy pack reads it. */
export const SWARM_ROLE_TAG = "swarm:role";
/** Tag key the components set on instances: the cluster they belong to; the policy pack groups by it. */
export const SWARM_CLUSTER_TAG = "swarm:cluster";

/**
 * Paths of the Docker socket. A container that mounts one (or the host's `/`) controls the
 * daemon, i.e. is root on its node: compose stacks and the policy pack refuse both by default.
 */
export const DOCKER_SOCKET_PATHS: readonly string[] = ["/var/run/docker.sock", "/run/docker.sock"];
