"""moto_server whose IAM checks see the secret a Secrets Manager call names.

moto 5.2.5 can enforce IAM (INITIAL_NO_AUTH_ACTION_COUNT, or POST /moto-api/reset-auth at run
time), but it matches a policy's Resource only for S3, SQS, IAM and STS: every other service,
Secrets Manager and KMS included, is checked against the resource "*". A policy scoped to one
secret ARN, as ours is, then never matches and everything is denied, the right policy as much as
a wrong one. This launcher gives Secrets Manager's responses the `_determine_resource` hook that
moto's own SQS responses have: the ARN of the secret named by SecretId (a name, a full or a
partial ARN), the SecretId itself when it is an ARN of no secret, else "*". Identity policies
(a user's or an assumed role's, inline and attached) are then evaluated by moto as it does for
S3, Action and Resource; moto still evaluates no Condition of an identity policy, no resource
policy (a secret's, a KMS key policy) and no KMS call at all: its Secrets Manager stores values
without encrypting them, so kms:Decrypt is never asked for.

Usage: python3 moto_iam.py -H <host> -p <port> (the arguments of moto_server).
"""
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.server import main


def _determine_resource(self):
    try:
        secret_id = self._get_param("SecretId")
    except Exception:  # a body that is not JSON: the call fails later, and for its own reason
        return "*"
    if not secret_id:
        return "*"
    secret = self.backend.secrets.get(secret_id)
    if secret is not None:
        return secret.arn
    return secret_id if secret_id.startswith("arn:") else "*"


SecretsManagerResponse._determine_resource = _determine_resource

if __name__ == "__main__":
    main()
