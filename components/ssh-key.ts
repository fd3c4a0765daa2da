/** The OpenSSH public key a cluster installs on its nodes: one rule for Args and stack config. */
import { shown } from "./shown";

const OPENSSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}( [^\r\n]*)?$/;

/**
 * Problems with an OpenSSH public key: one line `type base64 [comment]`. A newline would smuggle
 * a second line into authorized_keys (e.g. `command="..."` options), so it is refused. Only the
 * start of the value is shown. An Output is checked by AWS when the key pair is imported.
 */
export function sshPublicKeyProblems(value: unknown, setting = "sshPublicKey"): string[] {
  if (value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value))) return [];
  if (typeof value === "string" && OPENSSH_PUBLIC_KEY.test(value.trim())) return [];
  const start = typeof value === "string" && value.length > 40 ? `${shown(value.slice(0, 40))}…` : shown(value);
  return [
    `${setting} is ${start}, which is not an OpenSSH public key; paste the one line of your ` +
      `id_ed25519.pub, or unset it to have a key generated.`,
  ];
}
