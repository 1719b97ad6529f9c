import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readSecret } from '#adapters/aws/secret';

const secretsManager = mockClient(SecretsManagerClient);

beforeEach(() => {
  secretsManager.reset();
});

const secretId = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:klaxon/ack-key-AbCdEf';
const gets = () => secretsManager.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input);

describe('readSecret', () => {
  it('gets the secret by id and returns its string', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ ARN: secretId, SecretString: 's3cr3t-key' });
    await expect(readSecret(secretId, new SecretsManagerClient({}))).resolves.toBe('s3cr3t-key');
    expect(gets()).toEqual([{ SecretId: secretId }]);
    expect(secretsManager.calls()).toHaveLength(1);
  });

  it('throws, naming the secret, when it has no string value (a binary secret)', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ ARN: secretId, SecretBinary: new Uint8Array([1, 2, 3]) });
    await expect(readSecret(secretId, new SecretsManagerClient({}))).rejects.toThrow(
      `secret ${secretId} has no string value`,
    );
  });

  it('throws when the string value is empty', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ ARN: secretId, SecretString: '' });
    await expect(readSecret(secretId, new SecretsManagerClient({}))).rejects.toThrow('has no string value');
  });

  it('passes Secrets Manager errors through', async () => {
    const thrown = new ResourceNotFoundException({ message: 'no such secret', $metadata: {} });
    secretsManager.on(GetSecretValueCommand).rejects(thrown);
    await expect(readSecret('klaxon/missing', new SecretsManagerClient({}))).rejects.toBe(thrown);
    expect(gets()).toEqual([{ SecretId: 'klaxon/missing' }]);
  });
});
