/**
 * Docker image references, checked by the grammar of distribution/reference (the library the
 * Docker engine parses them with), so that a value such as "--privileged" or one with shell
 * metacharacters never reaches a node's command line.
 * https://github.com/distribution/reference/blob/main/reference.go
 */
import { shown } from "./shown";

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
/** The engine's limit on the name part. */
const MAX_NAME_LENGTH = 255;

/** True for a reference such as "nginx:1.27", "127.0.0.1:5000/app:1.0" or "repo@sha256:…". */
export function isImageReference(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const m = REFERENCE.exec(value);
  return m !== null && m[1].length <= MAX_NAME_LENGTH;
}

/** Problems with an image reference; `setting` is the name the user wrote. */
export function imageReferenceProblems(value: unknown, setting: string, example = "nginx:1.27"): string[] {
  if (isImageReference(value)) return [];
  return [
    `${setting} is ${shown(value)}, which is not an image reference; use a lower-case ` +
      `name with an optional tag or digest, such as "${example}" or "127.0.0.1:5000/app:1.0".`,
  ];
}
