// Typed wrapper around scripts/swarm-lab for the swarm test suite.
//
// Every call runs a child process with an argv array (never through a shell on this
// side): the lab script for lifecycle commands and `exec`, ssh directly for `ssh`.
// A command string given to ssh()/exec() is run by `sh -c` on the host, so both
// paths interpret it the same way.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    /** Written to the command's stdin (stdin is closed at once when absent). */
    stdin?: string;
    /** Kill the command (SIGKILL) after this long; default 300 000 ms. */
    timeoutMs?: number;
}

export interface LabOptions {
    /** Lab name: part of bridge, veth, cgroup and state dir names (1-8 chars). Default env LAB or "swl". */
    name?: string;
    /** First three octets of the lab's /24. Default env LAB_NET or "10.231.0". */
    net?: string;
    /** State dir. Default env LAB_ROOT or /tmp/swarm-lab/<name>. */
    root?: string;
}

/** Path of the lab tool. */
export const LAB_SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "swarm-lab");

const DEFAULT_TIMEOUT_MS = 300_000;

function run(file: string, args: string[], env: NodeJS.ProcessEnv, opts: RunOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => err.push(b));
        child.stdin.on("error", () => undefined); // the command may exit without reading stdin
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            let stderr = Buffer.concat(err).toString("utf8");
            if (timedOut) {
                stderr += `\n[lab] ${file} ${args.join(" ")}: killed after ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`;
            }
            resolve({
                code: code ?? 128 + (signal ? os.constants.signals[signal] ?? 0 : 0),
                stdout: Buffer.concat(out).toString("utf8"),
                stderr,
            });
        });
        child.stdin.end(opts.stdin ?? "");
    });
}

export class Lab {
    readonly name: string;
    readonly net: string;
    readonly root: string;
    /** Path of the lab's ed25519 private key (exists while the lab is up). */
    readonly keyPath: string;
    /** Path of the lab's ssh_config (hosts h1..hN, user root, the key). */
    readonly sshConfigPath: string;
    /** Number of hosts of the last successful up(). */
    hosts = 0;

    constructor(opts: LabOptions = {}) {
        this.name = opts.name ?? process.env.LAB ?? "swl";
        this.net = opts.net ?? process.env.LAB_NET ?? "10.231.0";
        this.root = opts.root ?? process.env.LAB_ROOT ?? `/tmp/swarm-lab/${this.name}`;
        if (!/^[a-z][a-z0-9]{0,7}$/.test(this.name)) {
            throw new Error(`lab name must be 1-8 lowercase letters/digits starting with a letter, got "${this.name}"`);
        }
        if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(this.net)) {
            throw new Error(`lab net must be the first three octets like "10.231.0", got "${this.net}"`);
        }
        this.keyPath = path.join(this.root, "id_ed25519");
        this.sshConfigPath = path.join(this.root, "ssh_config");
    }

    private env(): NodeJS.ProcessEnv {
        // LAB_OWNER: the lab belongs to this process. `up` replaces a lab left over by a
        // process that has exited; `down` refuses to tear down a lab that another running
        // process owns (e.g. the same suite started twice at once).
        return { ...process.env, LAB: this.name, LAB_NET: this.net, LAB_ROOT: this.root, LAB_OWNER: String(process.pid) };
    }

    /** Runs a lab subcommand; resolves with its result whatever the exit code. */
    run(args: string[], opts?: RunOptions): Promise<ExecResult> {
        return run("bash", [LAB_SCRIPT, ...args], this.env(), opts);
    }

    private async must(args: string[], timeoutMs?: number): Promise<string> {
        const r = await this.run(args, { timeoutMs });
        if (r.code !== 0) {
            throw new Error(`swarm-lab ${args.join(" ")} (LAB=${this.name}) exited ${r.code}:\n${r.stderr}${r.stdout}`);
        }
        return r.stdout;
    }

    private host(i: number): string {
        if (!Number.isInteger(i) || i < 1) {
            throw new Error(`host index must be a positive integer, got ${i}`);
        }
        return String(i);
    }

    /** True when the lab's state dir exists (e.g. left over by a killed run). */
    exists(): boolean {
        return fs.existsSync(path.join(this.root, ".swarm-lab"));
    }

    /**
     * Creates hosts 1..n; resolves when every dockerd and sshd answers. A failed up cleans up
     * after itself. A lab of the same name left by an exited process is torn down first; one
     * owned by a running process makes up() fail.
     */
    async up(n: number, timeoutMs = 180_000): Promise<void> {
        await this.must(["up", this.host(n)], timeoutMs);
        this.hosts = n;
    }

    /** Kills everything of the lab and removes it; idempotent. Fails if another running process owns the lab. */
    async down(): Promise<void> {
        await this.must(["down"], 60_000);
        this.hosts = 0;
    }

    /** Address of host i, e.g. 10.231.0.11. */
    addr(i: number): string {
        return `${this.net}.${10 + Number(this.host(i))}`;
    }

    /** Hostname of host i (also its Swarm node name), e.g. swl-h1. */
    hostName(i: number): string {
        return `${this.name}-h${this.host(i)}`;
    }

    /** Runs cmd (a shell command line) on host i over ssh as root. */
    ssh(i: number, cmd: string, opts?: RunOptions): Promise<ExecResult> {
        return run("ssh", ["-F", this.sshConfigPath, "--", `h${this.host(i)}`, cmd], process.env, opts);
    }

    /** Runs cmd (a shell command line) directly in host i's namespaces (nsenter; no ssh). */
    exec(i: number, cmd: string, opts?: RunOptions): Promise<ExecResult> {
        return this.run(["exec", this.host(i), "sh", "-c", cmd], opts);
    }

    /** Kills every daemon of host i (dockerd, containerd, shims, containers, sshd); the address stays. */
    async stop(i: number): Promise<void> {
        await this.must(["stop", this.host(i)]);
    }

    /** Starts dockerd and sshd of host i again; resolves when docker info and ssh answer. */
    async start(i: number): Promise<void> {
        await this.must(["start", this.host(i)]);
    }

    /** SIGKILLs dockerd of host i only (containerd follows it; shims and containers live on). */
    async killDockerd(i: number): Promise<void> {
        await this.must(["kill-dockerd", this.host(i)]);
    }

    /** Kills dockerd, containerd, shims and containers of host i; sshd stays up. */
    async stopDockerd(i: number): Promise<void> {
        await this.must(["stop-dockerd", this.host(i)]);
    }

    /** Cuts host i off the bridge. */
    async partition(i: number): Promise<void> {
        await this.must(["partition", this.host(i)]);
    }

    /** Reconnects host i to the bridge. */
    async heal(i: number): Promise<void> {
        await this.must(["heal", this.host(i)]);
    }

    /** Contents of the lab's private key (OpenSSH format). */
    privateKey(): string {
        return fs.readFileSync(this.keyPath, "utf8");
    }
}

/** Runs fn with a fresh lab of n hosts and always tears the lab down afterwards. */
export async function withLab<T>(n: number, fn: (lab: Lab) => Promise<T>, opts?: LabOptions): Promise<T> {
    const lab = new Lab(opts);
    let failed = false;
    try {
        await lab.up(n);
        return await fn(lab);
    } catch (e) {
        failed = true;
        throw e;
    } finally {
        try {
            await lab.down();
        } catch (e) {
            if (!failed) throw e; // don't hide the original failure
        }
    }
}
