// A stand-in for pulumi-language-nodejs, which cannot be built here (tools/engine/README.md):
// the real CLI connects to it with --client, and on Run it starts the Node SDK's own program
// runner (@pulumi/pulumi/cmd/run) on a project directory, as the language host does, with the
// engine's monitor and engine addresses, config and secret keys. So the program runs in its own
// process through run.js, the path `pulumi preview` takes, rather than inline.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as grpc from "@grpc/grpc-js";
// The SDK's generated gRPC code has no typings of its own worth importing; only what is used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const langrpc = require("@pulumi/pulumi/proto/language_grpc_pb") as { LanguageRuntimeService: grpc.ServiceDefinition };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const langproto = require("@pulumi/pulumi/proto/language_pb") as {
  RunResponse: new () => { setError(e: string): void; setBail(b: boolean): void };
  GetRequiredPluginsResponse: new () => { setPluginsList(l: unknown[]): void };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const plugproto = require("@pulumi/pulumi/proto/plugin_pb") as { PluginInfo: new () => { setVersion(v: string): void } };

interface RunRequest {
  getProject(): string;
  getStack(): string;
  getArgsList(): string[];
  getConfigMap(): { entries(): Iterable<[string, string]> };
  getConfigsecretkeysList(): string[];
  getDryrun(): boolean;
  getParallel(): number;
  getMonitorAddress(): string;
  getOrganization(): string;
}

/** What the runner process wrote, for assertions on what reached the user outside the engine. */
export interface RunnerOutput {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** The Node SDK's exit code for "the error was already logged": the host prints nothing more. */
const LOGGED_AND_EXITED = 32;

/** Starts the stand-in host for the program in `programDir`; `runs` collects each run's output. */
export async function startRunnerHost(programDir: string): Promise<{ address: string; runs: RunnerOutput[]; stop(): void }> {
  const runs: RunnerOutput[] = [];
  const server = new grpc.Server();
  server.addService(langrpc.LanguageRuntimeService, {
    getRequiredPlugins: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      const resp = new langproto.GetRequiredPluginsResponse();
      resp.setPluginsList([]);
      callback(null, resp);
    },
    getPluginInfo: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      const info = new plugproto.PluginInfo();
      info.setVersion("3.248.0");
      callback(null, info);
    },
    run: (call: grpc.ServerUnaryCall<RunRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const req = call.request;
      // What the language host takes from the project's Pulumi.yaml: the entry point (the
      // directory when `main` is unset) and whether the program is TypeScript.
      const project = yaml.load(fs.readFileSync(path.join(programDir, "Pulumi.yaml"), "utf8")) as {
        main?: string;
        runtime?: { options?: { typescript?: boolean } };
      };
      const runner = require.resolve("@pulumi/pulumi/cmd/run");
      const args = [
        runner,
        `--monitor=${req.getMonitorAddress()}`,
        `--engine=${req.getArgsList()[0] ?? ""}`,
        `--project=${req.getProject()}`,
        `--stack=${req.getStack()}`,
        `--organization=${req.getOrganization()}`,
        `--parallel=${req.getParallel()}`,
        `--dry-run=${req.getDryrun()}`,
        project.main ?? ".",
      ];
      const child = spawn(process.execPath, args, {
        cwd: programDir,
        env: {
          ...process.env,
          PULUMI_CONFIG: JSON.stringify(Object.fromEntries(req.getConfigMap().entries())),
          PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
          PULUMI_NODEJS_TYPESCRIPT: String(project.runtime?.options?.typescript ?? true),
          // Type checking is `npm run typecheck`'s job; here it would only cost time.
          PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out: RunnerOutput = { exitCode: null, stdout: "", stderr: "" };
      child.stdout.on("data", (d: Buffer) => (out.stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
      child.on("close", (code) => {
        out.exitCode = code;
        runs.push(out);
        const resp = new langproto.RunResponse();
        // As pulumi-language-nodejs does: 32 means the program logged its error itself.
        if (code === LOGGED_AND_EXITED) resp.setBail(true);
        else if (code !== 0) resp.setError(`Program exited with non-zero exit code: ${code}`);
        callback(null, resp);
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, runs, stop: () => server.forceShutdown() };
}

export const REPO = path.resolve(__dirname, "..", "..");
