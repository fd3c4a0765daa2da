import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { shellQuote } from "../../components/scripts";

/**
 * A test monitor that makes Pulumi mocks behave like the engine plus @pulumi/command 1.2.1 for
 * `command:remote:Command`: create runs for real over SSH on the named host, with stdin and
 * environment passed as the provider passes them, and returns the real stdout/stderr with one
 * trailing newline trimmed. Between deployments it keeps state like the engine does, so a
 * second deployment updates, replaces or deletes commands and runs their delete hooks.
 * `command:remote:CopyToRemote` with a FileAsset: the file is written over SSH to remotePath
 * (as the provider's SFTP does), again when the file or the path changes; its delete does nothing.
 */

const SIG = pulumi.runtime.specialSigKey;
const unwrap = (v: unknown): unknown =>
  v && typeof v === "object" && SIG in (v as object) ? (v as Record<string, unknown>).value : v;
const isSecret = (v: unknown) =>
  !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG] === pulumi.runtime.specialSecretSig;

/** The inputs of a remote command, unwrapped. */
export interface CommandInputs {
  connection: { host: string; port?: number; user?: string; privateKey?: string };
  create?: string;
  delete?: string;
  update?: string;
  stdin?: string;
  environment?: Record<string, string>;
  triggers?: unknown[];
  logging?: string;
  addPreviousOutputInEnv?: boolean;
  /** A CopyToRemote's file, its sha256 (so a changed file is a diff) and destination. */
  copy?: { source: string; digest: string; remotePath: string };
}

/** One command's life in the harness: what it was given, what it printed, when it ran. */
export interface CommandRecord {
  name: string;
  inputs: CommandInputs;
  /** Which inputs arrived as secrets. */
  secretInputs: string[];
  stdout: string;
  stderr: string;
  /** The exact text sent to sshd, for checks that no secret was in it. */
  commandText: string;
  /** Whether anything was written to the command's stdin (the provider sends it on every operation). */
  stdinSent: boolean;
  /** Warnings the provider would print, e.g. a PULUMI_COMMAND_* variable sshd refused. */
  warnings: string[];
  /** Names of the resources this one depends on (dependsOn and data), as the engine records them. */
  dependsOn: string[];
  start: number;
  end: number;
  operation: "create" | "update" | "delete";
}

export interface DeployOptions {
  /**
   * `diff`: like `pulumi up`: unchanged commands do not run, changed ones update (create runs
   * again), changed triggers replace. `always`: every create runs again (proves idempotency).
   * @default "diff"
   */
  mode?: "diff" | "always";
  /** Give up on the deployment after this many ms. @default 300000 */
  timeoutMs?: number;
}

/**
 * A failed operation. `message` is what the provider reports and the user reads
 * (remote/commandOutputs.go: `"%w: running %q:\n%s"`): the exit status, the whole quoted command
 * text, then the output; `stderr` alone is for tests that check a script's own line.
 */
export class CommandFailed extends Error {
  constructor(readonly command: string, readonly operation: string, readonly exitCode: number, readonly stdout: string, readonly stderr: string, text = "") {
    super(`${command} (${operation}): Process exited with status ${exitCode}: running ${JSON.stringify(text)}:\n${[stdout, stderr].filter(Boolean).join("\n")}`);
  }
}

interface StateEntry {
  record: CommandRecord;
}

/** Environment names a stock sshd accepts (Debian's AcceptEnv LANG LC_*). */
const acceptedEnv = (k: string) => k === "LANG" || k.startsWith("LC_");

export class SwarmHarness {
  /** Commands that exist after the last deployment, by name. */
  readonly state = new Map<string, StateEntry>();
  /** Every operation run, in order, across deployments. */
  readonly log: CommandRecord[] = [];
  /**
   * Old commands of replacements whose delete has not succeeded yet. The engine keeps them as
   * pending deletes and tries again at the end of every later `up` until one succeeds.
   */
  readonly pendingDeletes: StateEntry[] = [];
  private readonly keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarm-harness-"));
  private keyFiles = new Map<string, string>();

  /**
   * Runs `program` (which constructs components and returns an output that resolves when the
   * deployment is complete) like one `pulumi up`, then deletes commands the program no longer
   * declares, in the engine's delete levels.
   */
  async deploy<T>(program: () => pulumi.Output<T>, opts: DeployOptions = {}): Promise<{ value: T; ran: CommandRecord[] }> {
    const mode = opts.mode ?? "diff";
    const seen = new Set<string>();
    const ran: CommandRecord[] = [];
    const pendingDeletes: StateEntry[] = [];
    const dependencies = new Map<string, string[]>();
    let fail: (e: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));

    await pulumi.runtime.setMocks(
      {
        newResource: async (r) => {
          const copies = r.type === "command:remote:CopyToRemote";
          if (r.type !== "command:remote:Command" && !copies) return { id: `${r.name}-id`, state: r.inputs };
          seen.add(r.name);
          const inputs = copies ? await this.copyInputsOf(r.inputs) : this.inputsOf(r.inputs);
          const dependsOn = dependencies.get(r.name) ?? [];
          const secretInputs = Object.keys(r.inputs).filter((k) => isSecret(r.inputs[k]));
          const old = this.state.get(r.name);
          try {
            let record: CommandRecord;
            let executed = true;
            if (!old) {
              record = await this.run(r.name, inputs, secretInputs, "create", dependsOn);
            } else if (JSON.stringify(old.record.inputs.triggers ?? []) !== JSON.stringify(inputs.triggers ?? [])) {
              // Replacement, create-before-delete: the old command's delete runs at the end.
              record = await this.run(r.name, inputs, secretInputs, "create", dependsOn);
              pendingDeletes.push(old);
            } else if (mode === "always" || JSON.stringify(old.record.inputs) !== JSON.stringify(inputs)) {
              record = await this.run(r.name, inputs, secretInputs, "update", dependsOn, old.record);
            } else {
              record = { ...old.record, inputs, secretInputs, dependsOn };
              executed = false;
            }
            if (executed) ran.push(record);
            this.state.set(r.name, { record });
            return { id: `${r.name}-id`, state: { ...r.inputs, stdout: record.stdout, stderr: record.stderr } };
          } catch (e) {
            fail(e as Error);
            throw e;
          }
        },
        call: () => {
          throw new Error("the swarm harness mocks no invokes");
        },
      },
      "aws-swarm",
      "lab",
    );
    // Mocks never see dependencies; the engine orders deletes by them. Read them off each
    // registration request before the mock handles it.
    const monitor = pulumi.runtime.getMonitor() as unknown as DependencyMonitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      dependencies.set(req.getName(), req.getDependenciesList().map((urn) => urn.split("::").pop()!));
      return register(req, callback);
    };

    const timeoutMs = opts.timeoutMs ?? 300000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`deployment did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const value = await Promise.race([resolveOutput(program()), failed, timeout]);
      const gone = [...this.state.entries()].filter(([name]) => !seen.has(name)).map(([, e]) => e);
      // Create before delete: the new commands of a replaced host exist by now; its old ones
      // are deleted last, with their old inputs, together with what the program dropped.
      this.pendingDeletes.push(...pendingDeletes);
      await this.removeAll([...gone, ...this.pendingDeletes], (entry, record) => {
        ran.push(record);
        const pending = this.pendingDeletes.indexOf(entry);
        if (pending >= 0) this.pendingDeletes.splice(pending, 1);
        else this.state.delete(record.name);
      });
      return { value, ran };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Like `pulumi destroy`: every command's delete, in the engine's levels. */
  async destroy(): Promise<CommandRecord[]> {
    const ran: CommandRecord[] = [];
    await this.removeAll([...this.state.values(), ...this.pendingDeletes], (entry, record) => {
      ran.push(record);
      const pending = this.pendingDeletes.indexOf(entry);
      if (pending >= 0) this.pendingDeletes.splice(pending, 1);
      else this.state.delete(record.name);
    });
    return ran;
  }

  /**
   * Deletes as the engine schedules them (step_generator.go ScheduleDeletes): cut into levels in
   * reverse dependency order, each level in parallel, a barrier between levels. A failure ends
   * the run after its level, as later levels would skip what depends on it.
   */
  private async removeAll(entries: StateEntry[], deleted: (entry: StateEntry, record: CommandRecord) => void): Promise<void> {
    let remaining = [...entries];
    while (remaining.length > 0) {
      const level = remaining.filter((e) => !remaining.some((o) => o !== e && o.record.dependsOn.includes(e.record.name)));
      if (level.length === 0) throw new Error(`a dependency cycle among ${remaining.map((e) => e.record.name).join(", ")}`);
      const results = await Promise.allSettled(level.map((e) => this.remove(e)));
      results.forEach((r, i) => { if (r.status === "fulfilled") deleted(level[i], r.value); });
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
      remaining = remaining.filter((e) => !level.includes(e));
    }
  }

  /** Removes the temporary key files. */
  dispose(): void {
    fs.rmSync(this.keyDir, { recursive: true, force: true });
  }

  private async remove(entry: StateEntry): Promise<CommandRecord> {
    const { record } = entry;
    if (!record.inputs.delete) return { ...record, operation: "delete", stdout: "", stderr: "", commandText: "", stdinSent: false, warnings: [] };
    return this.run(record.name, record.inputs, record.secretInputs, "delete", record.dependsOn, record);
  }

  private inputsOf(raw: Record<string, unknown>): CommandInputs {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) out[k] = unwrap(v);
    const conn = out.connection as Record<string, unknown>;
    out.connection = { ...conn, privateKey: unwrap(conn.privateKey) };
    return out as unknown as CommandInputs;
  }

  private async copyInputsOf(raw: Record<string, unknown>): Promise<CommandInputs> {
    const { connection, triggers } = this.inputsOf(raw);
    const asset = raw.source as { path?: string | Promise<string> };
    if (asset?.path === undefined) throw new Error("the harness copies FileAssets only");
    const source = await asset.path;
    const digest = crypto.createHash("sha256").update(fs.readFileSync(source)).digest("hex");
    return { connection, triggers, copy: { source, digest, remotePath: String(unwrap(raw.remotePath)) } };
  }

  private keyFile(privateKey: string): string {
    let file = this.keyFiles.get(privateKey);
    if (!file) {
      file = path.join(this.keyDir, `key-${this.keyFiles.size}`);
      fs.writeFileSync(file, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
      this.keyFiles.set(privateKey, file);
    }
    return file;
  }

  /**
   * Runs one operation the way @pulumi/command 1.2.1 does over SSH (remote/commandController.go,
   * commandOutputs.go): no text, no session; the stored stdin on every operation, deletes
   * included; PULUMI_COMMAND_STDOUT/STDERR only when non-empty, and a refusal of those only warns,
   * while a refused `environment` entry fails the command.
   */
  private async run(
    name: string, inputs: CommandInputs, secretInputs: string[], operation: CommandRecord["operation"],
    dependsOn: string[], previous?: { stdout: string; stderr: string },
  ): Promise<CommandRecord> {
    const copy = operation === "delete" ? undefined : inputs.copy;
    const text = copy
      ? `cat >${shellQuote(copy.remotePath)}.part && mv ${shellQuote(copy.remotePath)}.part ${shellQuote(copy.remotePath)}`
      : operation === "delete" ? inputs.delete : operation === "update" ? inputs.update ?? inputs.create : inputs.create;
    const start = Date.now();
    if (text === undefined || text === "") {
      return { name, inputs, secretInputs, operation, commandText: "", start, end: start, stdout: "", stderr: "", stdinSent: false, warnings: [], dependsOn };
    }
    const env: Record<string, string> = { ...(inputs.environment ?? {}) };
    const refusedEnv = Object.keys(env).filter((k) => !acceptedEnv(k));
    if (refusedEnv.length > 0) {
      // The provider's Go SSH session asks for each variable with want-reply; a stock sshd says no.
      throw new CommandFailed(name, operation, -1, "", `could not set environment variable ${JSON.stringify(refusedEnv[0])}: ssh: setenv failed`, text);
    }
    const warnings: string[] = [];
    if (operation !== "create" && inputs.addPreviousOutputInEnv !== false) {
      for (const [k, v] of [["PULUMI_COMMAND_STDOUT", previous?.stdout], ["PULUMI_COMMAND_STDERR", previous?.stderr]] as const) {
        if (!v) continue;
        if (acceptedEnv(k)) env[k] = v;
        else warnings.push(`Unable to set '${k}'. This only works if your SSH server is configured to accept these variables via AcceptEnv.`);
      }
    }
    const c = inputs.connection;
    const args = [
      "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
      "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "KexAlgorithms=curve25519-sha256",
      "-p", String(c.port ?? 22), "-l", c.user ?? "root",
      ...(c.privateKey ? ["-i", this.keyFile(c.privateKey), "-o", "IdentitiesOnly=yes"] : []),
      ...Object.entries(env).flatMap(([k, v]) => ["-o", `SetEnv=${k}=${v}`]),
      c.host, text,
    ];
    const stdin = copy ? fs.readFileSync(copy.source) : inputs.stdin || undefined;
    const { code, stdout, stderr } = await spawnWith("ssh", args, stdin);
    const record: CommandRecord = {
      name, inputs, secretInputs, operation, commandText: text, start, end: Date.now(),
      stdout: trimOneNewline(stdout), stderr: trimOneNewline(stderr), stdinSent: stdin !== undefined, warnings, dependsOn,
    };
    this.log.push(record);
    if (code !== 0) throw new CommandFailed(name, operation, code, record.stdout, record.stderr, text);
    return record;
  }
}

/** The part of the mock monitor the harness reads dependencies from. */
interface DependencyMonitor {
  registerResource(
    req: { getName(): string; getDependenciesList(): string[] },
    callback: (err: unknown, res: unknown) => void,
  ): unknown;
}

function trimOneNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

function spawnWith(cmd: string, args: string[], stdin?: string | Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}

function resolveOutput<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => (resolve(v), v)));
}
