// moto's server (PyPI `moto[server]`) as the AWS API of lab tests: one process per test, bound
// to the lab's bridge address so that the lab hosts reach it and nothing else does.
import { ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";

export interface MotoOptions {
    /** Address to bind: the lab bridge (`<LAB_NET>.1`) so hosts reach it. */
    host: string;
    /** Port; default a free one. */
    port?: number;
    /** How long to wait for it to answer; default 30 000 ms. */
    timeoutMs?: number;
    /**
     * The server program and its first arguments; `-H host -p port` follow. Default
     * `["moto_server"]`; test/swarm/moto_lifecycle.py adds what moto lacks of the Auto Scaling
     * lifecycle.
     */
    argv?: string[];
    /** Extra environment of the server, e.g. INITIAL_NO_AUTH_ACTION_COUNT to turn on its IAM checks. */
    env?: Record<string, string>;
}

/**
 * `argv` of a moto whose IAM checks match a Secrets Manager call against the secret's ARN (stock
 * moto 5.2.5 checks it against "*" only); see test/swarm/moto_iam.py for what it does not check.
 */
export const MOTO_IAM_ARGV = ["python3", path.join(__dirname, "moto_iam.py")];

/** Credentials moto accepts (any, until IAM checks are on), for clients on the lab hosts and in the test. */
export const MOTO_ENV = {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_DEFAULT_REGION: "us-east-1",
} as const;

/** A TCP port nothing listens on at `host` now (lab helpers that start servers use it). */
export function freePort(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, host, () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

function answers(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host, port });
        s.once("connect", () => { s.destroy(); resolve(true); });
        s.once("error", () => resolve(false));
    });
}

export class Moto {
    private constructor(private readonly child: ChildProcess, readonly endpoint: string, private readonly log: string[]) {}

    /** Starts moto_server and waits until it accepts connections. */
    static async start(opts: MotoOptions): Promise<Moto> {
        const port = opts.port ?? (await freePort(opts.host));
        const log: string[] = [];
        const [program, ...first] = opts.argv ?? ["moto_server"];
        const child = spawn(program, [...first, "-H", opts.host, "-p", String(port)], {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, ...MOTO_ENV, ...(opts.env ?? {}) },
        });
        child.stdout?.on("data", (b: Buffer) => log.push(b.toString()));
        child.stderr?.on("data", (b: Buffer) => log.push(b.toString()));
        const spawned = new Promise<void>((resolve, reject) => {
            child.once("spawn", resolve);
            child.once("error", (e) => reject(new Error(`${program} did not start (${e.message}); install it: pip install 'moto[server]'`)));
        });
        await spawned;
        const end = Date.now() + (opts.timeoutMs ?? 30_000);
        while (!(await answers(opts.host, port))) {
            if (child.exitCode !== null || Date.now() > end) {
                child.kill("SIGKILL");
                throw new Error(`moto_server on ${opts.host}:${port} did not answer: ${log.join("").slice(-2000)}`);
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        return new Moto(child, `http://${opts.host}:${port}`, log);
    }

    /** The server's output so far, for failure messages. */
    output(): string {
        return this.log.join("");
    }

    /** Lines for /etc/aws-swarm/aws.env on a lab host (read by lib.sh's aws_cli). */
    awsEnv(): string {
        const lines = Object.entries({ ...MOTO_ENV, AWS_SWARM_ENDPOINT_URL: this.endpoint }).map(([k, v]) => `${k}=${v}`);
        return `${lines.join("\n")}\n`;
    }

    /**
     * Turns moto's IAM checks on (every later request is authenticated and authorised against the
     * policies of the caller's IAM user or assumed role; MOTO_ENV's keys are then refused) or off.
     * The switch is the whole server's (POST /moto-api/reset-auth).
     */
    async enforceIam(on: boolean): Promise<void> {
        const r = await fetch(`${this.endpoint}/moto-api/reset-auth`, {
            method: "POST", headers: { "Content-Type": "text/plain" }, body: on ? "0" : "inf",
        });
        if (!r.ok) throw new Error(`moto reset-auth answered ${r.status}: ${await r.text()}`);
    }

    /** Ends the server (this process started it; it is ended by its PID). */
    async stop(): Promise<void> {
        if (this.child.exitCode !== null || this.child.signalCode !== null) return;
        const exited = new Promise((r) => this.child.once("exit", r));
        this.child.kill("SIGTERM");
        const t = setTimeout(() => this.child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
    }
}
