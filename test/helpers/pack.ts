// The package as a consumer gets it: `npm pack` of this repository (which runs `prepack`, the
// build), once per test process, into a temporary directory.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const REPO = path.resolve(__dirname, "..", "..");

export interface Packed {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the package, as `npm pack` lists them, sorted. */
  files: string[];
  /** The directory holding the tarball; removed at exit. */
  dir: string;
}

let packed: Promise<Packed> | undefined;

/** Packs the repository once per process (the build takes some 15 s). */
export function pack(): Promise<Packed> {
  packed ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aws-swarm-pack-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    const { stdout } = await execFileAsync("npm", ["pack", "--json", "--pack-destination", dir], {
      cwd: REPO,
      maxBuffer: 16 << 20,
    });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    return { tarball: path.join(dir, info.filename), files: info.files.map((f) => f.path).sort(), dir };
  })();
  return packed;
}

/** Every file under `dir` (relative, `/`-separated), recursively. */
export function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
}
