import * as aws from "@pulumi/aws";
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { entries, field, flag, isRecord, isUnknown, ofType, Props, text } from "./read";
import { reportAdvisory, reportNotKnown } from "./unknown";
import { describeResource, shown } from "./where";

function here(args: { type: string; name: string }): string {
  return describeResource(args.type, args.name);
}

// ---------------------------------------------------------------------------------------------
// IMDSv2. Unset httpTokens takes the AMI's default: AMIs registered with ImdsSupport v2.0, which
// includes every Amazon Linux 2023 AMI, launch IMDSv2-only
// (https://docs.aws.amazon.com/linux/al2023/ug/ec2-imds.html,
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html), as
// does an account whose EC2 instance-metadata default says so. So "optional" is mandatory, unset
// is advisory.

function reportImdsv1(options: unknown, args: ResourceValidationArgs, report: ReportViolation) {
  if (isUnknown(options)) {
    reportNotKnown(report, `${here(args)} metadataOptions`, "whether IMDSv1 is allowed");
    return;
  }
  const endpoint = text(field(options, "httpEndpoint"));
  const tokens = text(field(options, "httpTokens"));
  if (endpoint === "disabled" || tokens === "required") return;
  if (isUnknown(tokens) || isUnknown(endpoint)) {
    reportNotKnown(report, `${here(args)} metadataOptions`, "whether IMDSv1 is allowed");
    return;
  }
  if (tokens === undefined) {
    reportAdvisory(
      report,
      `${here(args)} metadataOptions.httpTokens is unset, so the AMI's default applies: ` +
        `IMDSv2-only for AMIs marked ImdsSupport v2.0 (every Amazon Linux 2023 AMI), IMDSv1 ` +
        `allowed for most others; set metadataOptions.httpTokens to "required" to be sure.`,
    );
    return;
  }
  report(
    `${here(args)} metadataOptions.httpTokens is ${shown(tokens)}, which allows IMDSv1, so a ` +
      `request forgery on the host can read the instance role's credentials; set ` +
      `metadataOptions.httpTokens to "required".`,
  );
}

/** An instance launched from a template takes unset settings from it, which is checked itself. */
function fromTemplate(props: Props, property: string): boolean {
  const template = props.launchTemplate;
  return template !== undefined && template !== null && props[property] === undefined;
}

function instanceImds(props: Props, args: ResourceValidationArgs, report: ReportViolation) {
  if (fromTemplate(props, "metadataOptions")) return;
  reportImdsv1(props.metadataOptions, args, report);
}

export const swarmNoImdsv1: ResourceValidationPolicy = {
  name: "swarm-no-imdsv1",
  description:
    "Forbids EC2 instances, spot instance requests, launch templates and launch configurations " +
    'whose metadataOptions.httpTokens is "optional" (IMDSv1 allowed), unless the metadata ' +
    "endpoint is disabled. Unset httpTokens is advisory: AMIs such as Amazon Linux 2023 default " +
    "to IMDSv2-only.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } (2 lets ' +
    "containers reach the instance role).",
  validateResource: [
    ofType(aws.ec2.Instance, instanceImds),
    ofType(aws.ec2.SpotInstanceRequest, instanceImds),
    ofType(aws.ec2.LaunchTemplate, (t, args, report) =>
      reportImdsv1(t.metadataOptions, args, report),
    ),
    ofType(aws.ec2.LaunchConfiguration, (c, args, report) =>
      reportImdsv1(c.metadataOptions, args, report),
    ),
  ],
};

// ---------------------------------------------------------------------------------------------
// EBS encryption. EBS encrypts by default only when the account has turned on encryption by
// default in that region, which is off unless someone turned it on
// (https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html); the program
// cannot know, so unset stays mandatory.

function deviceName(device: unknown): string {
  const name = text(field(device, "deviceName"));
  return typeof name === "string" && name !== "" ? ` (${name})` : "";
}

function reportVolume(
  encryptedValue: unknown,
  where: string,
  property: string,
  report: ReportViolation,
): void {
  const encrypted = flag(encryptedValue);
  if (encrypted === true) return;
  if (isUnknown(encrypted)) {
    reportNotKnown(report, `${where} ${property}`, "whether the volume is encrypted");
    return;
  }
  const to = property === "encrypted" ? "true" : '"true"';
  report(
    `${where} ${property} is ${shown(encryptedValue)}, so that volume is not encrypted; set ` +
      `${property} to ${to}.`,
  );
}

/** rootBlockDevice and ebsBlockDevices: Instance, SpotInstanceRequest, LaunchConfiguration. */
function instanceVolumes(props: Props, args: ResourceValidationArgs, report: ReportViolation) {
  if (!fromTemplate(props, "rootBlockDevice")) {
    const root = props.rootBlockDevice;
    if (isUnknown(root)) reportNotKnown(report, `${here(args)} rootBlockDevice`, "its encryption");
    else {
      const where = `${here(args)} rootBlockDevice`;
      const encrypted = flag(field(root, "encrypted"));
      if (encrypted !== true && !isUnknown(encrypted)) {
        report(
          `${where}.encrypted is ${shown(field(root, "encrypted"))}, so the root volume is not ` +
            `encrypted; set rootBlockDevice.encrypted to true.`,
        );
      } else if (isUnknown(encrypted)) reportNotKnown(report, `${where}.encrypted`, "it");
    }
  }
  const devices = props.ebsBlockDevices;
  if (isUnknown(devices))
    reportNotKnown(report, `${here(args)} ebsBlockDevices`, "their encryption");
  for (const { item, i } of entries(devices)) {
    const where = `${here(args)} ebsBlockDevices[${i}]`;
    if (isUnknown(item)) reportNotKnown(report, where, "its encryption");
    else if (isRecord(item))
      reportVolume(item.encrypted, `${where}${deviceName(item)}`, "encrypted", report);
  }
}

export const swarmNoUnencryptedEbs: ResourceValidationPolicy = {
  name: "swarm-no-unencrypted-ebs",
  description:
    "Forbids unencrypted EBS volumes: the rootBlockDevice and ebsBlockDevices of an instance, " +
    "spot instance request or launch configuration, a launch template's " +
    "blockDeviceMappings[].ebs, and aws.ebs.Volume must set encrypted to true.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    'Set encrypted: true on every volume (ebs.encrypted: "true" in a launch template).',
  validateResource: [
    ofType(aws.ec2.Instance, instanceVolumes),
    ofType(aws.ec2.SpotInstanceRequest, instanceVolumes),
    ofType(aws.ec2.LaunchConfiguration, instanceVolumes),
    ofType(aws.ec2.LaunchTemplate, (template, args, report) => {
      const list = template.blockDeviceMappings;
      if (isUnknown(list)) {
        reportNotKnown(report, `${here(args)} blockDeviceMappings`, "their encryption");
        return;
      }
      const mappings = entries(list).filter(
        ({ item }) =>
          isUnknown(item) || (isRecord(item) && item.ebs !== undefined && item.ebs !== null),
      );
      if (mappings.length === 0) {
        report(
          `${here(args)} has no blockDeviceMappings with ebs, so its root volume is encrypted ` +
            `only if the AMI's snapshot is; add a mapping for the root device with ` +
            `ebs.encrypted "true".`,
        );
      }
      for (const { item, i } of mappings) {
        const where = `${here(args)} blockDeviceMappings[${i}]`;
        if (isUnknown(item) || isUnknown(field(item, "ebs"))) {
          reportNotKnown(report, where, "its encryption");
          continue;
        }
        reportVolume(
          field(field(item, "ebs"), "encrypted"),
          `${where}${deviceName(item)}`,
          "ebs.encrypted",
          report,
        );
      }
    }),
    ofType(aws.ebs.Volume, (volume, args, report) => {
      const encrypted = flag(volume.encrypted);
      if (encrypted === true) return;
      if (isUnknown(encrypted)) {
        reportNotKnown(report, `${here(args)} encrypted`, "whether the volume is encrypted");
        return;
      }
      report(`${here(args)} encrypted is ${shown(volume.encrypted)}; set encrypted to true.`);
    }),
  ],
};
