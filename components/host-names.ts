/** Host names of a swarm: one rule for SwarmBootstrap and Registry, whose resource names use them. */
import { shown } from "./shown";

const KEBAB = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Problems with the names of a list of hosts: each kebab-case (it becomes part of resource
 * names, so it must also never change), and none used twice. `setting` is the list's name.
 */
export function hostNamesProblems(names: readonly unknown[], setting = "hosts"): string[] {
  const problems = names
    .filter((n) => typeof n !== "string" || !KEBAB.test(n))
    .map((n) => `${setting} has the host name ${shown(n)}, which is not kebab-case; use e.g. "worker-3".`);
  const dupes = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (dupes.length > 0) {
    problems.push(`${setting} has the host names ${shown(dupes)} more than once; give every host its own name.`);
  }
  return problems;
}
