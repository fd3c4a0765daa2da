/**
 * A realistic Pulumi AWS program of one shape the pack must judge right, written for this corpus
 * (not copied from anywhere), and what the pack must find in it: rule, resource, level.
 */
export interface CorpusProgram {
  title: string;
  /** Declares the program's resources under the test mocks. */
  build: () => void;
  /** Every violation, as `rule resource` or `rule resource (advisory)`. */
  expected: string[];
}

export const ASSUME_EC2 = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
  ],
});

/** A Swarm join token as `docker swarm join-token` prints one (fake secret part). */
export const JOIN_TOKEN =
  "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c";
