import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type {
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "../../policy/rules/all";

/**
 * Builds the arguments @pulumi/policy hands to a rule, typed by the resource class, so rule tests
 * call `validateResource` / `validateStack` directly without a policy server. Policy types come
 * through policy/rules/all.ts so they are the exact copy the rules compile against.
 */

const POLICY_DIR = path.join(__dirname, "..", "..", "policy");

/** The part of @pulumi/policy's internal proxy module that previews use. */
interface PreviewProxy {
  /** Wraps props so that reading an unknown value throws UnknownValueError, as in a preview. */
  unknownCheckingProxy<T extends object>(props: T): T;
  unknownStringValue: string;
  unknownArrayValue: string;
}

// The copy of @pulumi/policy the rules themselves load (policy/node_modules when installed).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const previewProxy: PreviewProxy = require(
  require.resolve("@pulumi/policy/proxy", { paths: [POLICY_DIR] }),
);

/** What a preview passes for a string (or a list) that is only known after apply. */
export const UNKNOWN_STRING = previewProxy.unknownStringValue;
export const UNKNOWN_ARRAY = previewProxy.unknownArrayValue;

/** Any Pulumi resource class: `new (name, args, opts?)`. */
export interface ResourceClass<TArgs> {
  new (name: string, args: TArgs, ...rest: never[]): unknown;
}

/** Stack name and project of the URNs built here. */
const STACK = "test";
const PROJECT = "aws-swarm";

/** Thrown by `notApplicable`, as the real server's NotApplicableError is; runPolicy skips it. */
export class NotApplicable extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "not applicable");
  }
}

/** The type token a class registers, e.g. `aws:ec2/instance:Instance`. */
export function pulumiTypeOf(resourceClass: object): string {
  const token: unknown = Reflect.get(resourceClass, "__pulumiType");
  if (typeof token !== "string") throw new Error("not a Pulumi resource class: no __pulumiType");
  return token;
}

function isTypeOf(type: string, resourceClass: object): boolean {
  return pulumiTypeOf(resourceClass) === type;
}

/**
 * The rule-facing views of props (`asType`, `getConfig`) are typed by the caller; the server
 * hands out the same untyped object, and so does this helper.
 */
function typedView<T>(value: unknown): T {
  return value as T;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Resource props are always an object; `Unwrap<TArgs>` of a generic TArgs cannot say so. */
function recordOf(props: unknown): Record<string, unknown> {
  if (!isRecord(props)) throw new Error(`resource props must be an object, got ${typeof props}`);
  return props;
}

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:${STACK}::${PROJECT}::${type}::${name}`;
}

function resourceOptions(parent?: string): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(parent === undefined ? {} : { parent }),
  };
}

export interface ResourceArgsOptions {
  /** Logical name. @default "subject" */
  name?: string;
  /** What `getConfig()` returns: this rule's policy config without `enforcementLevel`. @default {} */
  config?: object;
  /** Stack tags. @default {} */
  stackTags?: Record<string, string>;
  /** URN of the parent resource. @default none */
  parent?: string;
  /** Wrap props as a preview does, so UNKNOWN_STRING / UNKNOWN_ARRAY read as unknown. */
  preview?: boolean;
}

/** ResourceValidationArgs for a resource of `resourceClass` whose inputs are `props`. */
export function resourceArgs<TArgs>(
  resourceClass: ResourceClass<TArgs>,
  props: pulumi.Unwrap<NonNullable<TArgs>>,
  options: ResourceArgsOptions = {},
): ResourceValidationArgs {
  return untypedResourceArgs(pulumiTypeOf(resourceClass), recordOf(props), options);
}

/** ResourceValidationArgs for a type token and raw props (e.g. a resource recorded by the mocks). */
export function untypedResourceArgs(
  type: string,
  rawProps: Record<string, unknown>,
  options: ResourceArgsOptions = {},
): ResourceValidationArgs {
  const name = options.name ?? "subject";
  const config = options.config ?? {};
  const props = options.preview ? previewProxy.unknownCheckingProxy(rawProps) : rawProps;
  return {
    type,
    props,
    urn: urnOf(type, name),
    name,
    opts: resourceOptions(options.parent),
    provider: {
      type: `pulumi:providers:${type.split(":")[0]}`,
      props: {},
      urn: urnOf(`pulumi:providers:${type.split(":")[0]}`, "default"),
      name: "default",
    },
    stackTags: new Map(Object.entries(options.stackTags ?? {})),
    isType: (resourceClass) => isTypeOf(type, resourceClass),
    asType: (resourceClass) => (isTypeOf(type, resourceClass) ? typedView(props) : undefined),
    getConfig: <T extends object>() => typedView<T>(config),
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

export interface StackResourceOptions {
  /** Logical name. @default "subject" */
  name?: string;
  /** Outputs the provider would add to the inputs, e.g. `{ id: "bucket-1" }`. */
  outputs?: Record<string, unknown>;
  /** Resources each property came from, e.g. `{ bucket: [theBucket] }`. */
  propertyDependencies?: Record<string, PolicyResource[]>;
  parent?: PolicyResource;
}

/** A PolicyResource of `resourceClass` as a stack validation sees it (props are outputs). */
export function stackResource<TArgs>(
  resourceClass: ResourceClass<TArgs>,
  props: pulumi.Unwrap<NonNullable<TArgs>>,
  options: StackResourceOptions = {},
): PolicyResource {
  return untypedStackResource(pulumiTypeOf(resourceClass), recordOf(props), options);
}

export function untypedStackResource(
  type: string,
  props: Record<string, unknown>,
  options: StackResourceOptions = {},
): PolicyResource {
  const name = options.name ?? "subject";
  const all = { ...props, ...options.outputs };
  const propertyDependencies = options.propertyDependencies ?? {};
  return {
    type,
    props: all,
    urn: urnOf(type, name),
    name,
    opts: resourceOptions(options.parent?.urn),
    ...(options.parent === undefined ? {} : { parent: options.parent }),
    dependencies: [...new Set(Object.values(propertyDependencies).flat())],
    propertyDependencies,
    isType: (resourceClass) => isTypeOf(type, resourceClass),
    asType: (resourceClass) => (isTypeOf(type, resourceClass) ? typedView(all) : undefined),
  };
}

export interface StackArgsOptions {
  config?: object;
  stackTags?: Record<string, string>;
}

export function stackArgs(
  resources: PolicyResource[],
  options: StackArgsOptions = {},
): StackValidationArgs {
  const config = options.config ?? {};
  return {
    resources,
    stackTags: new Map(Object.entries(options.stackTags ?? {})),
    getConfig: <T extends object>() => typedView<T>(config),
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** Marks a violation a rule reported as advisory (the object form of reportViolation). */
export const ADVISORY = "[advisory] ";

/**
 * Runs one rule the way the policy server does (every validation function in order, a
 * notApplicable counting as no finding) and returns every violation message, in report order;
 * a violation the rule reported as advisory is prefixed with ADVISORY.
 */
export async function runPolicy(
  policy: ResourceValidationPolicy,
  args: ResourceValidationArgs,
): Promise<string[]>;
export async function runPolicy(
  policy: StackValidationPolicy,
  args: StackValidationArgs,
): Promise<string[]>;
export async function runPolicy(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  args: ResourceValidationArgs | StackValidationArgs,
): Promise<string[]> {
  return (await runWithUrns(policy, args)).map((v) =>
    v.advisory ? `${ADVISORY}${v.message}` : v.message,
  );
}

/** One reportViolation call: the message and, for a stack policy, the resource it names. */
export interface Reported {
  message: string;
  urn?: string;
  /** The rule reported it as advisory, whatever the rule's own level. */
  advisory?: true;
}

function isViolationObject(
  value: unknown,
): value is { message: string; urn?: string; enforcementLevel?: string } {
  return isRecord(value) && typeof value.message === "string";
}

/** Like runPolicy, but keeps the URN each violation was reported against. */
export async function runWithUrns(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  args: ResourceValidationArgs | StackValidationArgs,
): Promise<Reported[]> {
  const reported: Reported[] = [];
  // The server also accepts `{ message, urn, enforcementLevel }` (see policy/rules/unknown.ts).
  const report: ReportViolation = (message: unknown, urn?: string) => {
    if (isViolationObject(message)) {
      reported.push({
        message: message.message,
        ...(message.urn === undefined ? {} : { urn: message.urn }),
        ...(message.enforcementLevel === "advisory" ? { advisory: true as const } : {}),
      });
      return;
    }
    if (typeof message !== "string") throw new Error(`reportViolation got ${typeof message}`);
    reported.push(urn === undefined ? { message } : { message, urn });
  };
  const skipNotApplicable = async (run: () => Promise<void> | void) => {
    try {
      await run();
    } catch (e) {
      if (!(e instanceof NotApplicable)) throw e;
    }
  };
  if ("validateStack" in policy) {
    if (!("resources" in args)) throw new Error(`${policy.name} is a stack policy: pass stackArgs`);
    await skipNotApplicable(() => policy.validateStack(args, report));
    return reported;
  }
  if ("resources" in args)
    throw new Error(`${policy.name} is a resource policy: pass resourceArgs`);
  const validate = policy.validateResource;
  const validations = validate === undefined ? [] : Array.isArray(validate) ? validate : [validate];
  for (const validation of validations) {
    await skipNotApplicable(() => validation(args, report));
  }
  return reported;
}

/** Secrets reach mocks wrapped; the policy server hands rules plain values. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (!isRecord(value)) return value;
  const record = value;
  if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) {
    return unwrapSecrets(record.value);
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** A violation from a pack run: the rule's name, its message, and the resource it is about. */
export interface PackViolation {
  policy: string;
  message: string;
  /** Logical name of the resource; "" for a violation against the whole stack. */
  resource: string;
  /** Reported as advisory by the rule itself. */
  advisory?: true;
}

export interface PackRunOptions {
  /** Policy config by rule name, as in a --policy-pack-config file (without enforcementLevel). */
  config?: Record<string, object>;
}

/**
 * Runs every policy over resources recorded by the test mocks: each custom resource through every
 * resource policy (props are its inputs), then the whole set through every stack policy (props
 * are inputs plus the `id` the mocks return, `${name}-id`, as the provider's outputs would carry).
 */
export async function runPack(
  policies: Policies,
  recorded: readonly pulumi.runtime.MockResourceArgs[],
  options: PackRunOptions = {},
): Promise<PackViolation[]> {
  const custom = recorded.filter((r) => r.custom !== false);
  const nameByUrn = new Map(custom.map((r) => [urnOf(r.type, r.name), r.name]));
  const violations: PackViolation[] = [];
  for (const policy of policies) {
    const config = options.config?.[policy.name] ?? {};
    if ("validateStack" in policy) {
      const resources = custom.map((r) =>
        untypedStackResource(r.type, propsOf(r), { name: r.name, outputs: { id: `${r.name}-id` } }),
      );
      for (const v of await runWithUrns(policy, stackArgs(resources, { config }))) {
        const resource = v.urn === undefined ? "" : (nameByUrn.get(v.urn) ?? v.urn);
        violations.push({ policy: policy.name, message: v.message, resource, ...level(v) });
      }
      continue;
    }
    for (const r of custom) {
      const args = untypedResourceArgs(r.type, propsOf(r), { name: r.name, config });
      for (const v of await runWithUrns(policy, args)) {
        violations.push({ policy: policy.name, message: v.message, resource: r.name, ...level(v) });
      }
    }
  }
  return violations;
}

function level(v: Reported): { advisory?: true } {
  return v.advisory ? { advisory: true } : {};
}

function propsOf(r: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  return recordOf(unwrapSecrets(r.inputs ?? {}));
}

/**
 * Resolves once `created` (or any growing list) has stopped growing for `quietMs`; rejects after
 * `ms` so a graph that never settles fails the test instead of hanging it.
 */
export async function whenSettled(
  list: readonly unknown[],
  quietMs = 200,
  ms = 20000,
): Promise<void> {
  const deadline = Date.now() + ms;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    if (list.length !== last) {
      last = list.length;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`registrations did not settle within ${ms} ms`);
    await new Promise((done) => setTimeout(done, 10));
  }
}
