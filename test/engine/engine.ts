// The real Pulumi engine for tests: the CLI built by scripts/engine, run offline through the
// Automation API with a file backend in a temporary directory and the passphrase secrets provider.
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as auto from "@pulumi/pulumi/automation";

const execFileAsync = promisify(execFile);

const REPO = path.resolve(__dirname, "..", "..");

/** Builds the CLI if it is not cached yet (progress on stderr) and returns its bin directory. */
export function engineBin(): string {
  bin ??= execFileSync(path.join(REPO, "scripts", "engine"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .trim()
    .split("\n")
    .pop()!;
  return bin;
}
let bin: string | undefined;

/** Environment of every engine run: nothing may reach the network. */
export function offlineEnv(home: string): Record<string, string> {
  return {
    PULUMI_HOME: path.join(home, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${path.join(home, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "engine-tests",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
  };
}

/** A scratch engine: its own PULUMI_HOME and state directory, removed by dispose(). */
export class Engine {
  readonly home = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-engine-"));
  private cmd?: auto.PulumiCommand;

  async command(): Promise<auto.PulumiCommand> {
    fs.mkdirSync(path.join(this.home, "state"), { recursive: true });
    this.cmd ??= await auto.PulumiCommand.get({ root: path.dirname(engineBin()) });
    return this.cmd;
  }

  /** A stack of project `project` that runs `program` inline, in this process. */
  async stack(project: string, name: string, program: auto.PulumiFn): Promise<auto.Stack> {
    const envVars = offlineEnv(this.home);
    return auto.LocalWorkspace.createOrSelectStack(
      { projectName: project, stackName: `organization/${project}/${name}`, program },
      {
        pulumiCommand: await this.command(),
        envVars,
        pulumiHome: envVars.PULUMI_HOME,
        secretsProvider: "passphrase",
        projectSettings: { name: project, runtime: "nodejs", backend: { url: envVars.PULUMI_BACKEND_URL } },
      },
    );
  }

  /**
   * `pulumi stack export` as a user would run it, without `--show-secrets`; the Automation API's
   * exportStack always passes that flag, so it cannot show what state holds.
   */
  async exportState(stack: auto.Stack): Promise<string> {
    return this.cli(stack, ["stack", "export"]);
  }

  /** Runs the CLI on `stack` in its workspace, with the same offline environment. */
  async cli(stack: auto.Stack, args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(path.join(engineBin(), "pulumi"), [...args, "--stack", stack.name], {
      cwd: stack.workspace.workDir,
      env: { ...process.env, ...offlineEnv(this.home) },
      maxBuffer: 64 << 20,
    });
    return stdout;
  }

  dispose(): void {
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

/** Collects an operation's engine events, for assertions on what the user would see. */
export function recorder() {
  const events: auto.EngineEvent[] = [];
  return {
    events,
    onEvent: (e: auto.EngineEvent) => void events.push(e),
    /** Every diagnostic message of the operation. */
    diagnostics: () => events.flatMap((e) => (e.diagnosticEvent ? [e.diagnosticEvent.message] : [])),
    /** Types of the resources the engine planned a step for. */
    stepTypes: () => events.flatMap((e) => (e.resourcePreEvent ? [e.resourcePreEvent.metadata.type] : [])),
  };
}
