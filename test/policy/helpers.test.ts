import * as assert from "node:assert";
import { actionMatches, isReadOnlyAction, parsePolicyDocument } from "../../policy/rules/documents";
import { cidrContains, isWorldCidr, normalizeProtocol } from "../../policy/rules/ingress";
import { decodeBase64 } from "../../policy/rules/data";
import { gzipSync } from "zlib";

describe("policy document parsing", () => {
  it("reads a JSON string with Statement as an array and Action and Resource as strings", () => {
    const doc =
      '{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}';
    assert.deepStrictEqual(parsePolicyDocument(doc, "p"), {
      valid: true,
      statements: [
        {
          where: "p statement 1",
          actions: ["s3:GetObject"],
          notActions: undefined,
          resources: ["arn:aws:s3:::b/*"],
          notResources: undefined,
        },
      ],
    });
  });

  it("reads an object with Statement as a single object and NotAction and NotResource as arrays", () => {
    const doc = {
      Statement: { Sid: "S", Effect: "Allow", NotAction: ["iam:*"], NotResource: ["x", "y"] },
    };
    assert.deepStrictEqual(parsePolicyDocument(doc, "p"), {
      valid: true,
      statements: [
        {
          where: 'p statement 1 (Sid "S")',
          actions: undefined,
          notActions: ["iam:*"],
          resources: undefined,
          notResources: ["x", "y"],
        },
      ],
    });
  });

  it("keeps the position of each Allow statement and drops Deny statements", () => {
    const doc = {
      Statement: [
        { Effect: "Deny", Action: "*" },
        { Effect: "Allow", Action: "*" },
      ],
    };
    const parsed = parsePolicyDocument(doc, "p");
    assert.deepStrictEqual(parsed.valid && parsed.statements.map((s) => s.where), [
      "p statement 2",
    ]);
  });

  it("reads a document without Statement as having no statements", () => {
    assert.deepStrictEqual(parsePolicyDocument('{"Version":"2012-10-17"}', "p"), {
      valid: true,
      statements: [],
    });
  });

  it("rejects a JSON value that is not an object", () => {
    assert.deepStrictEqual(parsePolicyDocument("[]", "p"), {
      valid: false,
      where: "p",
      error: "the document is not a JSON object",
    });
  });
});

describe("IAM action patterns", () => {
  it("matches wildcards case-insensitively", () => {
    assert.deepStrictEqual(
      ["iam:*", "IAM:pass?ole", "*", "iam:PassRole", "s3:*"].map((p) =>
        actionMatches(p, "iam:PassRole"),
      ),
      [true, true, true, true, false],
    );
  });

  it("counts only Describe, List and Get prefixes with a literal service as read-only", () => {
    assert.deepStrictEqual(
      [
        "ec2:Describe*",
        "s3:GetObject",
        "s3:list*",
        "s3:G*",
        "s3:*Get",
        "*:Get*",
        "*",
        "s3:PutObject",
      ].map(isReadOnlyAction),
      [true, true, true, false, false, false, false, false],
    );
  });
});

describe("ingress helpers", () => {
  it("normalises protocol names and numbers", () => {
    assert.deepStrictEqual(
      ["-1", "all", "6", "TCP", "17", "udp", "50", "esp", "icmp", undefined].map(normalizeProtocol),
      ["all", "all", "tcp", "tcp", "udp", "udp", "esp", "esp", "other", "other"],
    );
  });

  it("treats any /0 prefix as the whole internet", () => {
    assert.deepStrictEqual(
      ["0.0.0.0/0", "::/0", "0::/0", "10.0.0.0/8", "2001:db8::/32"].map(isWorldCidr),
      [true, true, true, false, false],
    );
  });

  it("decides IPv4 and IPv6 containment by prefix", () => {
    assert.deepStrictEqual(
      [
        cidrContains("203.0.113.0/24", "203.0.113.7/32"),
        cidrContains("203.0.113.0/24", "203.0.0.0/16"),
        cidrContains("2001:db8::/32", "2001:db8:1::/48"),
        cidrContains("2001:db8::/32", "2001:db9::/48"),
        cidrContains("10.0.0.0/8", "::/0"),
        cidrContains("not-a-cidr", "10.0.0.0/8"),
      ],
      [true, false, true, false, false, false],
    );
  });
});

describe("user data decoding", () => {
  it("decodes base64 and gzip-compressed base64", () => {
    assert.deepStrictEqual(
      [
        decodeBase64(Buffer.from("#!/bin/sh\necho hi\n").toString("base64")),
        decodeBase64(gzipSync(Buffer.from("#cloud-config\n")).toString("base64")),
      ],
      ["#!/bin/sh\necho hi\n", "#cloud-config\n"],
    );
  });

  it("leaves text that is not base64 undecoded", () => {
    assert.strictEqual(decodeBase64("#!/bin/sh\necho hi\n"), undefined);
  });
});
