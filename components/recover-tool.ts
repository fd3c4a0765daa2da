/**
 * swarm-recover (tools/swarm-recover, on Docker's own swarmkit): what a restore needs and dockerd
 * cannot do. It opens an archive taken with autolock on (moby/moby#36852), and gives the restored
 * manager its new host's Raft address. The package carries the linux/amd64 binary beside its
 * modules; a restore copies it to the first manager, and the restore program runs it only if its
 * digest matches.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Where the upload step puts the binary; the restore program installs it from there. */
export const RECOVER_UPLOAD_PATH = "/tmp/aws-swarm-swarm-recover";

/** The packaged binary: components/tools/ (built by scripts/recover-tool), or the same beside the compiled modules. */
export function recoverBinaryPath(): string {
  return path.join(__dirname, "tools", "swarm-recover-linux-amd64");
}

/** What is wrong with the packaged binary, for a stack that restores; empty when it is there. */
export function recoverToolProblems(setting: string, file = recoverBinaryPath()): string[] {
  return fs.existsSync(file)
    ? []
    : [`${setting} is set, and a restore needs swarm-recover, but ${file} does not exist; run \`npm run recover-tool\` in the aws-swarm checkout, or reinstall the package.`];
}

/** sha256 of the binary, hex: the restore program checks the copy on the host against it. */
export function recoverDigest(file = recoverBinaryPath()): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}
