import * as aws from "@pulumi/aws";
import {
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
} from "@pulumi/policy";
import { gunzipSync } from "zlib";
import { entries, field, isRecord, isUnknown, ofType, Props, text } from "./read";
import { reportNotKnown, snapshot } from "./unknown";
import { describeResource } from "./where";

// Secrets in user data and tags: both are readable by anyone who may describe the resource,
// and user data by every process on the instance through the metadata service.

function here(args: { type: string; name: string }): string {
  return describeResource(args.type, args.name);
}

interface SecretPattern {
  found: string;
  pattern: RegExp;
  fix: string;
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    found: "a Swarm join token (SWMTKN-…)",
    // A token's secret part, not the prefix alone: shell that checks or redacts tokens
    // (`SWMTKN-1-*)`, `s/SWMTKN-[A-Za-z0-9-]*/…/`) holds none.
    pattern: /SWMTKN-1-[0-9a-z]{10,}/i,
    fix: "pass join tokens to `docker swarm join` over SSH stdin at join time instead",
  },
  {
    found: "a private key (-----BEGIN … PRIVATE KEY-----)",
    pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
    fix: "fetch it at boot from Secrets Manager or SSM Parameter Store (SecureString) instead",
  },
  {
    found: "an AWS access key ID (AKIA…/ASIA…)",
    pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/,
    fix: "use the instance role instead of static keys, and rotate the exposed key",
  },
];

const CREDENTIAL_FIX =
  "fetch the value at boot from Secrets Manager or SSM Parameter Store (SecureString) instead " +
  "and change the exposed one";

/**
 * A literal value, not an expansion, a placeholder or a flag: `$VAR`, `${VAR}`, `$(cmd)`,
 * `` `cmd` ``, `<...>`, `{{ ... }}`, `-stdin`, and empty values are how ordinary scripts pass a
 * secret they fetched, so they are not findings.
 */
function isLiteralSecret(value: string): boolean {
  if (value === "" || /^[$`<{%-]/.test(value)) return false;
  // Lengths, TTLs, ports and counts that sit next to credential words are numbers.
  return !/^\d+$/.test(value);
}

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_]*`;
const WORD = String.raw`(?:PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY)`;
// Names that hold where or how long a secret is, not the secret: DB_PASSWORD_FILE, TOKEN_TTL.
const NOT_A_SECRET_NAME =
  /_(?:FILE|PATH|TTL|URL|URI|SECONDS|NAME|ARN|ID|PARAM|PARAMETER|LENGTH|DIR)$/i;
const VALUE = String.raw`(?:"([^"\n]*)"|'([^'\n]*)'|([^\s;&|'"]+))`;

/** Credential assignments a script or cloud-config writes in plain text. */
const CREDENTIAL_ASSIGNMENTS: readonly { name: string; pattern: RegExp; nameGroup?: number }[] = [
  // export MYSQL_ROOT_PASSWORD=hunter2, DB_PASS="x", api_key='y'
  {
    name: "an assignment",
    pattern: new RegExp(
      // Blanks, not newlines, around "=": `token=` on its own line assigns nothing.
      String.raw`(?<![A-Za-z0-9_-])((?:${NAME})?${WORD}(?:${NAME})?)[ \t]*=[ \t]*${VALUE}`,
      "gi",
    ),
    nameGroup: 1,
  },
  // mysql --password=x, --db-password x, --secret=x (not --password-stdin)
  {
    name: "a command-line option",
    pattern: new RegExp(
      String.raw`(--[A-Za-z0-9-]*(?:password|passwd|secret|token|api-key))(?:=|\s+)${VALUE}`,
      "gi",
    ),
    nameGroup: 1,
  },
  // mysqladmin -u root password 'x'
  {
    name: "a mysqladmin password",
    pattern: new RegExp(String.raw`\bmysqladmin\b[^\n]*?\s(password)\s+${VALUE}`, "gi"),
    nameGroup: 1,
  },
  // mysql -uroot -psecret (mysql takes the password glued to -p)
  {
    name: "a mysql -p password",
    pattern: /\bmysql(?:dump|admin)?\b[^\n]*?\s(-p)(?:"([^"\n]+)"|'([^'\n]+)'|([^\s;&|'"]+))/g,
    nameGroup: 1,
  },
  // cloud-config `password: x` (users, chpasswd) and YAML env files
  {
    name: "a YAML key",
    pattern: new RegExp(
      String.raw`^\s*((?:${NAME})?(?:password|passwd|secret|token))\s*:\s*${VALUE}\s*$`,
      "gim",
    ),
    nameGroup: 1,
  },
];

/** The names of plain-text credential assignments in `script` (never their values). */
export function credentialAssignments(script: string): string[] {
  const found: string[] = [];
  for (const { pattern, nameGroup } of CREDENTIAL_ASSIGNMENTS) {
    for (const match of script.matchAll(pattern)) {
      const name = match[nameGroup ?? 1];
      const value = match[2] ?? match[3] ?? match[4] ?? "";
      if (NOT_A_SECRET_NAME.test(name) || !isLiteralSecret(value)) continue;
      // A join token, key or key ID is reported as what it is, once.
      if (SECRET_PATTERNS.some((s) => s.pattern.test(value))) continue;
      if (/^(?:true|false|null|none|yes|no)$/i.test(value)) continue;
      if (!found.includes(name)) found.push(name);
    }
  }
  return found;
}

/** Base64 (optionally of gzip, which cloud-init accepts) to text; undefined if it is not base64. */
export function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, "");
  if (compact === "" || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    return undefined;
  }
  const bytes = Buffer.from(compact, "base64");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes).toString("utf8");
    } catch {
      return undefined;
    }
  }
  return bytes.toString("utf8");
}

function reportSecrets(text: string, where: string, report: ReportViolation, script = false) {
  const decoded = decodeBase64(text);
  const inText = (test: (t: string) => boolean) =>
    test(text)
      ? where
      : decoded !== undefined && test(decoded)
        ? `${where} (base64-decoded)`
        : undefined;
  for (const secret of SECRET_PATTERNS) {
    const at = inText((t) => secret.pattern.test(t));
    if (at === undefined) continue;
    report(
      `${at} contains ${secret.found}, which anyone who can read the resource's configuration ` +
        `can see; ${secret.fix}.`,
    );
  }
  if (!script) return;
  const plain = credentialAssignments(text);
  const names =
    plain.length > 0 ? plain : decoded === undefined ? [] : credentialAssignments(decoded);
  if (names.length === 0) return;
  const at = plain.length > 0 ? where : `${where} (base64-decoded)`;
  report(
    `${at} sets ${names.map((n) => `${n}`).join(", ")} to a literal value, a credential in ` +
      `plain text that anyone who can read the resource's configuration can see; ${CREDENTIAL_FIX}.`,
  );
}

function userData(value: unknown, where: string, report: ReportViolation): void {
  if (isUnknown(value)) reportNotKnown(report, where, "whether it holds a secret");
  else if (typeof value === "string" && value !== "") reportSecrets(value, where, report, true);
}

/** A tag key or value: the key itself may be the secret, so never echo it. */
function reportTag(key: string, value: unknown, where: string, report: ReportViolation): void {
  if (SECRET_PATTERNS.some((s) => s.pattern.test(key))) {
    reportSecrets(key, `${where} (a tag key)`, report);
    return;
  }
  if (typeof value === "string") reportSecrets(value, `${where}["${key}"]`, report);
}

/**
 * Tag maps, and the `{ key, value }` lists of Auto Scaling groups. A tag a preview does not
 * know yet (computed from another resource's output, or tagsAll from the provider's default
 * tags) is checked on `up`; only a value can hold a secret we would miss, so that is advisory.
 */
function reportTagSecrets(tags: unknown, where: string, report: ReportViolation): void {
  if (isUnknown(tags)) return;
  if (Array.isArray(tags)) {
    for (const { item, i } of entries(tags)) {
      const key = text(field(item, "key"));
      const value = field(item, "value");
      if (typeof key === "string") reportTag(key, value, `${where}[${i}]`, report);
      else if (isUnknown(key) || isUnknown(value)) reportNotKnown(report, `${where}[${i}]`, "it");
    }
    return;
  }
  if (!isRecord(tags)) return;
  for (const [key, value] of Object.entries(tags)) reportTag(key, value, where, report);
}

const tagsOfAnyResource: ResourceValidation = (args, report) => {
  const props = snapshot(args.props);
  reportTagSecrets(field(props, "tags"), `${here(args)} tags`, report);
  reportTagSecrets(field(props, "tagsAll"), `${here(args)} tagsAll`, report);
};

/** userData, userDataBase64 and volumeTags: Instance, SpotInstanceRequest, LaunchConfiguration. */
function instanceUserData(props: Props, args: ResourceValidationArgs, report: ReportViolation) {
  userData(props.userData, `${here(args)} userData`, report);
  userData(props.userDataBase64, `${here(args)} userDataBase64`, report);
  reportTagSecrets(props.volumeTags, `${here(args)} volumeTags`, report);
}

export const swarmNoSecretsInUserDataOrTags: ResourceValidationPolicy = {
  name: "swarm-no-secrets-in-user-data-or-tags",
  description:
    "Forbids a Swarm join token (SWMTKN-), a private key block or an AWS access key ID in EC2 " +
    "user data (instances, spot requests, launch templates and launch configurations; base64 " +
    "and gzip decoded) or in the tags of any resource (tags maps, Auto Scaling group tag lists, " +
    "tagsAll, volumeTags, launch template tagSpecifications), and a credential assignment with a " +
    "literal value in user data (PASSWORD=…, --password=…, mysqladmin password …, password: …).",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    "Pass join tokens over SSH stdin, fetch keys and passwords from Secrets Manager or SSM at " +
    "boot, and use instance roles instead of access keys.",
  validateResource: [
    ofType(aws.ec2.Instance, instanceUserData),
    ofType(aws.ec2.SpotInstanceRequest, instanceUserData),
    ofType(aws.ec2.LaunchConfiguration, instanceUserData),
    ofType(aws.ec2.LaunchTemplate, (template, args, report) => {
      userData(template.userData, `${here(args)} userData`, report);
      for (const { item, i } of entries(template.tagSpecifications)) {
        reportTagSecrets(field(item, "tags"), `${here(args)} tagSpecifications[${i}].tags`, report);
      }
    }),
    tagsOfAnyResource,
  ],
};
