// github.com/aws/amazon-ec2-metadata-mock (AWS's IMDS emulator) for lab hosts: one server per
// pretend instance, IMDSv2 only, bound to the lab bridge so the hosts reach it. The binary is
// built by scripts/imds-mock into a cache outside the repo (like the engine).
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import { freePort } from "./moto";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "imds-mock");

let binary: string | undefined;
/** Path of the ec2-metadata-mock binary, building it on first use. */
export function imdsMockBinary(): string {
    binary ??= execFileSync(SCRIPT, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
    return binary;
}

export interface ImdsMockOptions {
    /** Address to bind (the lab bridge, `<LAB_NET>.1`). */
    host: string;
    /** Static metadata values by ec2-metadata-mock's key, e.g. `{ "instance-id": "i-1" }`. */
    values: Record<string, unknown>;
}

export class ImdsMock {
    private constructor(private readonly child: ChildProcess, readonly url: string, private readonly dir: string, private readonly log: string[]) {}

    /** Starts one server (IMDSv2 only) and waits until it hands out tokens. */
    static async start(opts: ImdsMockOptions): Promise<ImdsMock> {
        const port = await freePort(opts.host);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imds-mock-"));
        const config = path.join(dir, "config.json");
        fs.writeFileSync(config, JSON.stringify({ metadata: { values: opts.values } }));
        const log: string[] = [];
        // HOME: the mock may write its processed config there; keep it out of the real home.
        const child = spawn(imdsMockBinary(), ["-I", "-n", opts.host, "-p", String(port), "-c", config], {
            stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HOME: dir }, cwd: dir,
        });
        child.stdout?.on("data", (b: Buffer) => log.push(b.toString()));
        child.stderr?.on("data", (b: Buffer) => log.push(b.toString()));
        const url = `http://${opts.host}:${port}`;
        const end = Date.now() + 20_000;
        for (;;) {
            try {
                const r = await fetch(`${url}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "60" } });
                if (r.ok) break;
            } catch {
                // not listening yet
            }
            if (child.exitCode !== null || Date.now() > end) {
                child.kill("SIGKILL");
                throw new Error(`ec2-metadata-mock on ${opts.host}:${port} did not answer: ${log.join("").slice(-2000)}`);
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        return new ImdsMock(child, url, dir, log);
    }

    /** Ends the server (started by this process, ended by its PID) and removes its config. */
    async stop(): Promise<void> {
        if (this.child.exitCode === null && this.child.signalCode === null) {
            const exited = new Promise((r) => this.child.once("exit", r));
            this.child.kill("SIGTERM");
            await exited;
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
