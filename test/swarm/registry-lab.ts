// Helpers for the registry's real-swarm test: a registry image built without a registry, a
// small S3-compatible server that checks SigV4 signatures and session tokens, and an IMDSv2
// emulator at 169.254.169.254 inside a network namespace of its own on the lab bridge.
//
// Everything listens only on the lab bridge or inside namespaces created here; nothing touches
// the machine's own routes or its metadata path.
import { execFile, spawn, ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Lab } from "./lab";

/** Address of the EC2 instance metadata service, as the AWS SDKs have it built in. */
export const IMDS_ADDRESS = "169.254.169.254";

/** Temporary credentials, as IMDS hands them to an instance role. */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
}

function run(file: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Fresh temporary credentials that look like STS's: an ASIA key ID, a secret and a session token. */
export function temporaryCredentials(hours = 6): RoleCredentials {
  const alnum = (n: number) =>
    Array.from(crypto.randomBytes(n), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b % 32]).join("");
  return {
    accessKeyId: `ASIA${alnum(16)}`,
    secretAccessKey: crypto.randomBytes(30).toString("base64"),
    sessionToken: crypto.randomBytes(96).toString("base64"),
    expiration: new Date(Date.now() + hours * 3600_000).toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

// ------------------------------------------------------------------ registry image

/** The base configuration of the lab's registry image; the registry step overrides it with env vars. */
export const REGISTRY_CONFIG = [
  "version: 0.1",
  "log:",
  "  fields:",
  "    service: registry",
  "storage:",
  "  cache:",
  "    blobdescriptor: inmemory",
  "  filesystem:",
  "    rootdirectory: /var/lib/registry",
  "http:",
  "  addr: :5000",
  "  headers:",
  "    X-Content-Type-Options: [nosniff]",
  "health:",
  "  storagedriver:",
  "    enabled: true",
  "    interval: 10s",
  "    threshold: 3",
  "",
].join("\n");

/**
 * Builds a docker-registry image tarball from Debian's `docker-registry` package, without any
 * registry: `apt-get download` (needs the package lists, i.e. a past `apt-get update`),
 * `dpkg-deb -x`, then a rootfs with the binary, the libraries ldd names and a config.yml.
 * Returns the path of the rootfs tar inside `dir`.
 */
export async function buildRegistryRootfs(dir: string): Promise<string> {
  const debs = () => fs.readdirSync(dir).filter((f) => /^docker-registry_.*\.deb$/.test(f));
  if (debs().length === 0) {
    try {
      // The temporary directory is private to root, so apt must not drop to its _apt user.
      await run("apt-get", ["download", "-q", "-o", "APT::Sandbox::User=root", "docker-registry"], { cwd: dir });
    } catch (e) {
      throw new Error(`could not download Debian's docker-registry package; run 'apt-get update' first (${String(e)})`);
    }
  }
  const deb = path.join(dir, debs()[0]);
  const unpacked = path.join(dir, "deb");
  await run("dpkg-deb", ["-x", deb, unpacked]);
  const binary = path.join(unpacked, "usr/bin/docker-registry");
  const rootfs = path.join(dir, "rootfs");
  const copy = (from: string, to: string) => {
    fs.mkdirSync(path.dirname(path.join(rootfs, to)), { recursive: true });
    fs.copyFileSync(from, path.join(rootfs, to)); // follows symlinks: the image gets real files
    fs.chmodSync(path.join(rootfs, to), 0o755);
  };
  copy(binary, "/usr/bin/docker-registry");
  // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  const libs = (await run("ldd", [binary]))
    .split("\n")
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => !!p);
  if (libs.length === 0) throw new Error(`ldd found no libraries for ${binary}; is it static now?`);
  for (const lib of libs) copy(lib, lib);
  fs.mkdirSync(path.join(rootfs, "etc/docker/registry"), { recursive: true });
  fs.writeFileSync(path.join(rootfs, "etc/docker/registry/config.yml"), REGISTRY_CONFIG);
  for (const d of ["var/lib/registry", "tmp"]) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.chmodSync(path.join(rootfs, "tmp"), 0o1777);
  const tar = path.join(dir, "registry-rootfs.tar");
  await run("tar", ["-C", rootfs, "-cf", tar, "."]);
  return tar;
}

/**
 * Imports the rootfs tar as `tag` on lab hosts `hosts`. The tar is copied into the lab's state
 * dir, which every host sees at the same path (and which `down` removes).
 */
export async function importRegistryImage(lab: Lab, hosts: number[], tar: string, tag: string): Promise<void> {
  const shared = path.join(lab.root, "registry-rootfs.tar");
  fs.copyFileSync(tar, shared);
  const changes = [
    `-c 'ENTRYPOINT ["/usr/bin/docker-registry","serve","/etc/docker/registry/config.yml"]'`,
    "-c 'EXPOSE 5000'",
  ].join(" ");
  await Promise.all(
    hosts.map(async (i) => {
      const r = await lab.exec(i, `docker import ${changes} ${shared} ${tag} >/dev/null`);
      if (r.code !== 0) throw new Error(`docker import on h${i} failed: ${r.stderr}`);
    }),
  );
}

// ------------------------------------------------------------------ S3

interface StoredObject {
  data: Buffer;
  etag: string;
  modified: Date;
  contentType: string;
}
interface Part {
  data: Buffer;
  etag: string;
  modified: Date;
}
interface Upload {
  key: string;
  id: string;
  initiated: Date;
  parts: Map<number, Part>;
}
interface Bucket {
  objects: Map<string, StoredObject>;
  uploads: Map<string, Upload>;
}

/** One request the S3 server answered. */
export interface S3Request {
  method: string;
  path: string;
  status: number;
  accessKeyId: string;
  code?: string;
}

class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const MIN_PART = 5 << 20;
const XMLNS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const md5 = (b: Buffer) => crypto.createHash("md5").update(b).digest();
const sha256hex = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");
const hmac = (key: Buffer | string, data: string) => crypto.createHmac("sha256", key).update(data).digest();
const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
const xmlUnescape = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|quot|amp|lt|gt|apos);/gi, (_, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" } as Record<string, string>)[e.toLowerCase()];
  });
const tag = (name: string, value: string | number | boolean) => `<${name}>${xmlEscape(String(value))}</${name}>`;
const uriEncode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const queryDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
const unquote = (etag: string) => etag.replace(/^"|"$/g, "");

/**
 * A small S3-compatible server, enough for the docker registry's S3 driver (2.8): objects with
 * ranges, V1/V2 listings, copy, batch delete and multipart uploads with their listings. Every
 * request must carry a valid SigV4 signature made with `credentials`, including the session
 * token; anything else gets S3's 403 answer. Objects live in memory.
 */
export class LabS3 {
  readonly requests: S3Request[] = [];
  private readonly buckets = new Map<string, Bucket>();
  private server?: http.Server;

  constructor(readonly credentials: RoleCredentials, readonly region = "us-east-1") {}

  /** Listens on `host` (e.g. the lab bridge address); resolves with the endpoint URL. */
  async start(host: string, port = 0): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return `http://${host}:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, { objects: new Map(), uploads: new Map() });
  }

  /** Keys of a bucket's objects, sorted. */
  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.objects.keys() ?? [])].sort();
  }

  /** An object's content, if it exists. */
  object(bucket: string, key: string): Buffer | undefined {
    return this.buckets.get(bucket)?.objects.get(key)?.data;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const [rawPath, rawQuery = ""] = (req.url ?? "/").split("?", 2);
    const record: S3Request = { method: req.method ?? "", path: rawPath, status: 200, accessKeyId: "" };
    try {
      record.accessKeyId = this.authenticate(req, rawPath, rawQuery, body);
      const query = new Map<string, string>();
      for (const p of rawQuery.split("&").filter(Boolean)) {
        const i = p.indexOf("=");
        query.set(queryDecode(i < 0 ? p : p.slice(0, i)), i < 0 ? "" : queryDecode(p.slice(i + 1)));
      }
      const [bucketName, ...rest] = rawPath.slice(1).split("/");
      const key = rest.map(decodeURIComponent).join("/");
      const bucket = this.buckets.get(decodeURIComponent(bucketName));
      if (!bucket) throw new S3Error(404, "NoSuchBucket", "The specified bucket does not exist");
      const answer = key === "" ? this.bucketOp(req, bucket, decodeURIComponent(bucketName), query, body) : this.objectOp(req, bucket, key, query, body);
      record.status = answer.status ?? 200;
      res.writeHead(record.status, { ...(answer.xml !== undefined ? { "Content-Type": "application/xml" } : {}), ...answer.headers });
      res.end(req.method === "HEAD" ? undefined : answer.xml !== undefined ? `<?xml version="1.0" encoding="UTF-8"?>\n${answer.xml}` : answer.body);
    } catch (e) {
      const err = e instanceof S3Error ? e : new S3Error(500, "InternalError", String(e));
      record.status = err.status;
      record.code = err.code;
      res.writeHead(err.status, { "Content-Type": "application/xml" });
      res.end(req.method === "HEAD" ? undefined : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${tag("Code", err.code)}${tag("Message", err.message)}${tag("Resource", rawPath)}</Error>`);
    }
    this.requests.push(record);
  }

  /** Checks the SigV4 Authorization header and the session token; returns the access key ID. */
  private authenticate(req: http.IncomingMessage, rawPath: string, rawQuery: string, body: Buffer): string {
    const auth = req.headers.authorization ?? "";
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new S3Error(403, "AccessDenied", "Access Denied: requests must be signed with AWS Signature Version 4");
    const [, keyId, date, region, signed, signature] = m;
    const c = this.credentials;
    if (keyId !== c.accessKeyId) throw new S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    if (req.headers["x-amz-security-token"] !== c.sessionToken) throw new S3Error(403, "InvalidToken", "The provided token is malformed or otherwise invalid.");
    if (Date.parse(c.expiration) < Date.now()) throw new S3Error(400, "ExpiredToken", "The provided token has expired.");
    const payload = String(req.headers["x-amz-content-sha256"] ?? sha256hex(body));
    if (/^[0-9a-f]{64}$/.test(payload) && payload !== sha256hex(body)) {
      throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    const query = rawQuery
      .split("&")
      .filter(Boolean)
      .map((p) => {
        const i = p.indexOf("=");
        return [uriEncode(queryDecode(i < 0 ? p : p.slice(0, i))), uriEncode(i < 0 ? "" : queryDecode(p.slice(i + 1)))];
      })
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    const headerNames = signed.split(";");
    const headers = headerNames.map((h) => {
      const v = req.headers[h];
      return `${h}:${(Array.isArray(v) ? v.join(",") : v ?? "").trim().replace(/\s+/g, " ")}\n`;
    });
    // S3 signs the path as sent: no second round of URI encoding.
    const canonical = [req.method, rawPath, query, headers.join(""), signed, payload].join("\n");
    const scope = `${date}/${region}/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256hex(canonical)].join("\n");
    const key = hmac(hmac(hmac(hmac(`AWS4${c.secretAccessKey}`, date), region), "s3"), "aws4_request");
    if (hmac(key, toSign).toString("hex") !== signature) {
      throw new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
    }
    return keyId;
  }

  private bucketOp(req: http.IncomingMessage, bucket: Bucket, name: string, q: Map<string, string>, body: Buffer): Answer {
    const method = req.method;
    if (method === "HEAD") return {};
    if (method === "GET" && q.has("location")) {
      const where = this.region === "us-east-1" ? "" : this.region;
      return { xml: `<LocationConstraint ${XMLNS}>${xmlEscape(where)}</LocationConstraint>` };
    }
    if (method === "GET" && q.has("uploads")) {
      const prefix = q.get("prefix") ?? "";
      const uploads = [...bucket.uploads.values()]
        .filter((u) => u.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated.getTime() - b.initiated.getTime()));
      const items = uploads.map((u) => `<Upload>${tag("Key", u.key)}${tag("UploadId", u.id)}${tag("Initiated", u.initiated.toISOString())}${tag("StorageClass", "STANDARD")}</Upload>`);
      return {
        xml: `<ListMultipartUploadsResult ${XMLNS}>${tag("Bucket", name)}${tag("KeyMarker", "")}${tag("UploadIdMarker", "")}${tag("Prefix", prefix)}${tag("MaxUploads", 1000)}${tag("IsTruncated", false)}${items.join("")}</ListMultipartUploadsResult>`,
      };
    }
    if (method === "GET") {
      const v2 = q.get("list-type") === "2";
      const prefix = q.get("prefix") ?? "";
      const delimiter = q.get("delimiter") ?? "";
      const max = Math.min(1000, Number(q.get("max-keys") ?? 1000));
      const token = q.get("continuation-token");
      const after = v2 ? (token ? Buffer.from(token, "base64").toString() : q.get("start-after") ?? "") : q.get("marker") ?? "";
      const list = listing([...bucket.objects.keys()].sort(), prefix, delimiter, after, max);
      const contents = list.keys.map((k) => {
        const o = bucket.objects.get(k)!;
        return `<Contents>${tag("Key", k)}${tag("LastModified", o.modified.toISOString())}${tag("ETag", `"${o.etag}"`)}${tag("Size", o.data.length)}${tag("StorageClass", "STANDARD")}</Contents>`;
      });
      const prefixes = list.prefixes.map((p) => `<CommonPrefixes>${tag("Prefix", p)}</CommonPrefixes>`);
      const head = [tag("Name", name), tag("Prefix", prefix), tag("MaxKeys", max), ...(delimiter ? [tag("Delimiter", delimiter)] : []), tag("IsTruncated", list.truncated)];
      const more = v2
        ? [tag("KeyCount", list.keys.length + list.prefixes.length), ...(token ? [tag("ContinuationToken", token)] : []),
          ...(list.next ? [tag("NextContinuationToken", Buffer.from(list.next).toString("base64"))] : [])]
        : [tag("Marker", after), ...(list.next ? [tag("NextMarker", list.next)] : [])];
      return { xml: `<ListBucketResult ${XMLNS}>${[...head, ...more, ...contents, ...prefixes].join("")}</ListBucketResult>` };
    }
    if (method === "POST" && q.has("delete")) {
      const keys = [...body.toString().matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((k) => xmlUnescape(k[1]));
      for (const k of keys) bucket.objects.delete(k);
      return { xml: `<DeleteResult ${XMLNS}>${keys.map((k) => `<Deleted>${tag("Key", k)}</Deleted>`).join("")}</DeleteResult>` };
    }
    throw new S3Error(501, "NotImplemented", `${method} on a bucket with ${[...q.keys()].join("&")} is not implemented here`);
  }

  private objectOp(req: http.IncomingMessage, bucket: Bucket, key: string, q: Map<string, string>, body: Buffer): Answer {
    const method = req.method;
    const uploadId = q.get("uploadId");
    const copySource = req.headers["x-amz-copy-source"];
    const upload = () => {
      const u = uploadId === undefined ? undefined : bucket.uploads.get(uploadId);
      if (!u || u.key !== key) throw new S3Error(404, "NoSuchUpload", "The specified upload does not exist.");
      return u;
    };
    if (method === "POST" && q.has("uploads")) {
      const id = crypto.randomBytes(24).toString("hex");
      bucket.uploads.set(id, { key, id, initiated: new Date(), parts: new Map() });
      return { xml: `<InitiateMultipartUploadResult ${XMLNS}>${tag("Bucket", "")}${tag("Key", key)}${tag("UploadId", id)}</InitiateMultipartUploadResult>` };
    }
    if (method === "PUT" && uploadId !== undefined) {
      const u = upload();
      const n = Number(q.get("partNumber"));
      if (!Number.isInteger(n) || n < 1 || n > 10000) throw new S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000.");
      if (copySource) {
        const data = this.copyData(String(copySource), String(req.headers["x-amz-copy-source-range"] ?? ""));
        const part = { data, etag: md5(data).toString("hex"), modified: new Date() };
        u.parts.set(n, part);
        return { xml: `<CopyPartResult ${XMLNS}>${tag("LastModified", part.modified.toISOString())}${tag("ETag", `"${part.etag}"`)}</CopyPartResult>` };
      }
      const part = { data: body, etag: md5(body).toString("hex"), modified: new Date() };
      u.parts.set(n, part);
      return { headers: { ETag: `"${part.etag}"` } };
    }
    if (method === "POST" && uploadId !== undefined) {
      const u = upload();
      const listed = [...body.toString().matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((p) => ({
        n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(p[1])?.[1]),
        etag: unquote(xmlUnescape(/<ETag>([\s\S]*?)<\/ETag>/.exec(p[1])?.[1] ?? "")),
      }));
      if (listed.length === 0) throw new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
      const parts = listed.map(({ n, etag }, i) => {
        const part = u.parts.get(n);
        if (!part || part.etag !== etag) throw new S3Error(400, "InvalidPart", `Part ${n} was not uploaded or its ETag does not match.`);
        if (i > 0 && n <= listed[i - 1].n) throw new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.");
        if (i < listed.length - 1 && part.data.length < MIN_PART) throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
        return part;
      });
      const data = Buffer.concat(parts.map((p) => p.data));
      const etag = `${md5(Buffer.concat(parts.map((p) => Buffer.from(p.etag, "hex")))).toString("hex")}-${parts.length}`;
      bucket.objects.set(key, { data, etag, modified: new Date(), contentType: "application/octet-stream" });
      bucket.uploads.delete(u.id);
      return { xml: `<CompleteMultipartUploadResult ${XMLNS}>${tag("Key", key)}${tag("ETag", `"${etag}"`)}</CompleteMultipartUploadResult>` };
    }
    if (method === "DELETE" && uploadId !== undefined) {
      bucket.uploads.delete(upload().id);
      return { status: 204 };
    }
    if (method === "GET" && uploadId !== undefined) {
      const u = upload();
      const marker = Number(q.get("part-number-marker") ?? 0);
      const parts = [...u.parts.entries()].filter(([n]) => n > marker).sort(([a], [b]) => a - b);
      const items = parts.map(([n, p]) => `<Part>${tag("PartNumber", n)}${tag("LastModified", p.modified.toISOString())}${tag("ETag", `"${p.etag}"`)}${tag("Size", p.data.length)}</Part>`);
      const last = parts.length ? parts[parts.length - 1][0] : marker;
      return {
        xml: `<ListPartsResult ${XMLNS}>${tag("Key", key)}${tag("UploadId", u.id)}${tag("PartNumberMarker", marker)}${tag("NextPartNumberMarker", last)}${tag("MaxParts", 10000)}${tag("IsTruncated", false)}${items.join("")}</ListPartsResult>`,
      };
    }
    if (method === "PUT" && copySource) {
      const data = this.copyData(String(copySource), "");
      const o = { data, etag: md5(data).toString("hex"), modified: new Date(), contentType: String(req.headers["content-type"] ?? "application/octet-stream") };
      bucket.objects.set(key, o);
      return { xml: `<CopyObjectResult ${XMLNS}>${tag("LastModified", o.modified.toISOString())}${tag("ETag", `"${o.etag}"`)}</CopyObjectResult>` };
    }
    if (method === "PUT") {
      const o = { data: body, etag: md5(body).toString("hex"), modified: new Date(), contentType: String(req.headers["content-type"] ?? "application/octet-stream") };
      bucket.objects.set(key, o);
      return { headers: { ETag: `"${o.etag}"` } };
    }
    if (method === "DELETE") {
      bucket.objects.delete(key);
      return { status: 204 };
    }
    if (method === "GET" || method === "HEAD") {
      const o = bucket.objects.get(key);
      if (!o) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.");
      const headers: Record<string, string> = {
        ETag: `"${o.etag}"`,
        "Last-Modified": o.modified.toUTCString(),
        "Content-Type": o.contentType,
        "Accept-Ranges": "bytes",
      };
      const range = req.headers.range;
      if (!range) return { headers: { ...headers, "Content-Length": String(o.data.length) }, body: o.data };
      const [start, end] = byteRange(String(range), o.data.length);
      const slice = o.data.subarray(start, end + 1);
      return {
        status: 206,
        headers: { ...headers, "Content-Length": String(slice.length), "Content-Range": `bytes ${start}-${end}/${o.data.length}` },
        body: slice,
      };
    }
    throw new S3Error(501, "NotImplemented", `${method} on an object is not implemented here`);
  }

  private copyData(source: string, range: string): Buffer {
    const [b, ...k] = decodeURIComponent(source).replace(/^\//, "").split("/");
    const o = this.buckets.get(b)?.objects.get(k.join("/"));
    if (!o) throw new S3Error(404, "NoSuchKey", "The specified copy source does not exist.");
    if (!range) return o.data;
    const [start, end] = byteRange(range, o.data.length);
    return o.data.subarray(start, end + 1);
  }
}

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  xml?: string;
  body?: Buffer;
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` as inclusive offsets; S3's 416 when it starts past the end. */
function byteRange(range: string, size: number): [number, number] {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === "" && m[2] === "")) throw new S3Error(400, "InvalidArgument", `Invalid range ${range}`);
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) throw new S3Error(416, "InvalidRange", "The requested range is not satisfiable");
  return [start, end];
}

/** S3 listing semantics: keys after `after` under `prefix`, rolled up at `delimiter`, at most `max`. */
function listing(sorted: string[], prefix: string, delimiter: string, after: string, max: number) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let last = "";
  let truncated = false;
  for (const key of sorted) {
    if (!key.startsWith(prefix) || key <= after) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = cut >= 0 ? key.slice(0, cut + delimiter.length) : key;
    if (cut >= 0 && (entry <= after || entry === prefixes[prefixes.length - 1])) continue;
    if (keys.length + prefixes.length >= max) {
      truncated = true;
      break;
    }
    (cut >= 0 ? prefixes : keys).push(entry);
    last = entry;
  }
  return { keys, prefixes, truncated, next: truncated ? last : undefined };
}

// ------------------------------------------------------------------ IMDS

/** One request the IMDS emulator answered. */
export interface ImdsRequest {
  method: string;
  path: string;
  from: string;
  status: number;
  /** Whether the request carried a token this IMDS issued and that had not expired. */
  validToken: boolean;
}

/** What the emulator process needs: the role and its credentials. */
interface ImdsConfig {
  role: string;
  credentials: RoleCredentials;
}

/**
 * IMDSv2 as EC2 runs it with `httpTokens: required`: a PUT to /latest/api/token with a TTL
 * header returns a session token; every GET needs that token (401 without); the role's
 * credentials are at /latest/meta-data/iam/security-credentials/<role>.
 */
export function imdsHandler(config: ImdsConfig, onRequest: (r: ImdsRequest) => void): http.RequestListener {
  const tokens = new Map<string, number>();
  const credsPath = "/latest/meta-data/iam/security-credentials/";
  return (req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    const given = String(req.headers["x-aws-ec2-metadata-token"] ?? "");
    const expires = tokens.get(given);
    const validToken = expires !== undefined && expires > Date.now();
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": "text/plain", ...headers });
      res.end(body);
      onRequest({ method: req.method ?? "", path: url, from: req.socket.remoteAddress ?? "", status, validToken });
    };
    req.resume();
    if (req.method === "PUT" && url === "/latest/api/token") {
      const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return answer(400, "");
      // EC2 refuses token requests that went through a proxy.
      if (req.headers["x-forwarded-for"]) return answer(403, "");
      const token = crypto.randomBytes(40).toString("base64");
      tokens.set(token, Date.now() + ttl * 1000);
      return answer(200, token, { "X-aws-ec2-metadata-token-ttl-seconds": String(ttl) });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return answer(405, "");
    if (!validToken) return answer(401, "");
    if (url === credsPath) return answer(200, config.role);
    if (url === `${credsPath}${config.role}`) {
      const c = config.credentials;
      return answer(200, JSON.stringify({
        Code: "Success",
        LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
        Type: "AWS-HMAC",
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        Expiration: c.expiration,
      }, null, 2));
    }
    return answer(404, "");
  };
}

/**
 * The instance metadata service for lab hosts: a network namespace `<lab>-imds` on the lab
 * bridge holding 169.254.169.254/32, with the IMDSv2 emulator running inside it. The namespace's
 * IP TTL is 2, like EC2's hop limit 2: a container one hop behind its host still gets answers.
 * Hosts reach it through a link route added by {@link LabImds.route}; the machine's own routes
 * are never touched.
 */
export class LabImds {
  readonly requests: ImdsRequest[] = [];
  readonly netns: string;
  private readonly veth: string;
  private child?: ChildProcess;

  constructor(private readonly lab: Lab, private readonly config: ImdsConfig) {
    this.netns = `${lab.name}-imds`;
    this.veth = `${lab.name}imds`;
  }

  /**
   * Creates the namespace and starts the emulator; resolves when it listens. Call it after the
   * lab is up: then this process owns the lab's name, and any namespace of that name is a
   * leftover of a killed run.
   */
  async start(): Promise<void> {
    const ns = this.netns;
    await this.removeLinks();
    await run("ip", ["netns", "add", ns]);
    await run("ip", ["link", "add", this.veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${this.veth}/disable_ipv6`, "1");
    await run("ip", ["link", "set", this.veth, "master", `${this.lab.name}br0`, "up"]);
    const inside = [
      "set -e",
      "echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6",
      "ip link set lo up",
      `ip addr add ${IMDS_ADDRESS}/32 dev eth0`,
      "ip link set eth0 up",
      `ip route add ${this.lab.net}.0/24 dev eth0`,
    ].join("\n");
    await run("nsenter", [`--net=/run/netns/${ns}`, "sh", "-c", inside]);
    await this.setHopLimit(2);

    const child = spawn("nsenter", [`--net=/run/netns/${ns}`, process.execPath, "-r", "ts-node/register/transpile-only", __filename, "imds"], {
      cwd: path.resolve(__dirname, "..", ".."),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin!.end(JSON.stringify(this.config));
    await new Promise<void>((resolve, reject) => {
      let buffered = "";
      const timer = setTimeout(() => reject(new Error(`the IMDS emulator did not start within 30 s: ${stderr}`)), 30_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the IMDS emulator exited with ${code}: ${stderr}`));
      });
      child.stdout!.on("data", (d: Buffer) => {
        buffered += d.toString();
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const msg = JSON.parse(line) as { ready?: boolean; request?: ImdsRequest };
          if (msg.ready) {
            clearTimeout(timer);
            resolve();
          }
          if (msg.request) this.requests.push(msg.request);
        }
      });
    });
  }

  /** Sets the IP TTL of the emulator's answers: EC2's `httpPutResponseHopLimit`. */
  async setHopLimit(hops: number): Promise<void> {
    await run("nsenter", [`--net=/run/netns/${this.netns}`, "sh", "-c", `echo ${Number(hops)} >/proc/sys/net/ipv4/ip_default_ttl`]);
  }

  /** Lets lab host `i` reach 169.254.169.254 on its lab interface, as an EC2 instance does. */
  async route(i: number): Promise<void> {
    const r = await this.lab.exec(i, `ip route replace ${IMDS_ADDRESS}/32 dev eth0`);
    if (r.code !== 0) throw new Error(`route to IMDS on h${i}: ${r.stderr}`);
  }

  /** Stops the emulator and removes the namespace and its link; safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    await this.removeLinks();
  }

  private async removeLinks(): Promise<void> {
    // Deleting one end of the veth pair deletes the other, even while a process keeps the
    // namespace alive.
    await run("ip", ["link", "delete", this.veth]).catch(() => undefined);
    await run("ip", ["netns", "delete", this.netns]).catch(() => undefined);
  }
}

/** Entry point of the emulator process (inside the namespace): config on stdin, JSON lines out. */
function imdsMain(): void {
  let input = "";
  process.stdin.on("data", (d: Buffer) => (input += d.toString()));
  process.stdin.on("end", () => {
    const config = JSON.parse(input) as ImdsConfig;
    const say = (msg: object) => process.stdout.write(`${JSON.stringify(msg)}\n`);
    const server = http.createServer(imdsHandler(config, (request) => say({ request })));
    server.listen(80, IMDS_ADDRESS, () => say({ ready: true }));
    const stop = () => {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    };
    process.on("SIGTERM", stop);
    // A test run that was killed cannot stop its emulator: leave with the parent.
    const parent = process.ppid;
    setInterval(() => process.ppid !== parent && stop(), 1000).unref();
  });
}

/** A per-run scratch directory, removed by the caller. */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

if (require.main === module && process.argv[2] === "imds") imdsMain();
