import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Created once per execution environment, reused by every invocation. */
const defaultClient = new SecretsManagerClient({});

/** Reads a secret string from Secrets Manager (the acknowledge-link signing key). */
export async function readSecret(
  secretId: string,
  client: SecretsManagerClient = defaultClient,
): Promise<string> {
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!result.SecretString) throw new Error(`secret ${secretId} has no string value`);
  return result.SecretString;
}
