import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { TerminalError } from '../domain/errors.ts';
import { SecretValue } from '../domain/secret-value.ts';
import type { PassphraseStore, StoredPassphrase } from '../ports/passphrase-store.ts';
import { awsErrorName, classify, withRetry } from './aws-errors.ts';

const terminal = {
  InvalidParameterException: 'InvalidSecretRequest',
  InvalidRequestException: 'InvalidSecretRequest',
  MalformedPolicyDocumentException: 'InvalidSecretRequest',
  EncryptionFailure: 'SecretEncryptionFailed',
  DecryptionFailure: 'SecretDecryptionFailed',
};

/**
 * Secrets Manager. One secret per mapping, one version per export: a job names the version it
 * used, so a concurrent export for the same mapping cannot change the passphrase under it.
 */
export class SecretsManagerPassphraseStore implements PassphraseStore {
  readonly #sm: SecretsManagerClient;
  readonly #kmsKeyId: string | undefined;

  constructor(sm: SecretsManagerClient, options: { kmsKeyId?: string } = {}) {
    this.#sm = sm;
    this.#kmsKeyId = options.kmsKeyId;
  }

  async putNewVersion(input: {
    name: string;
    tags: Readonly<Record<string, string>>;
    passphrase: SecretValue;
    token: string;
  }): Promise<StoredPassphrase> {
    const what = (name: string) =>
      `Secrets Manager ${name} storing the passphrase in ${input.name}`;
    return withRetry(async () => {
      try {
        const out = await this.#sm.send(
          new PutSecretValueCommand({
            SecretId: input.name,
            ClientRequestToken: input.token,
            SecretString: input.passphrase.reveal(),
          }),
        );
        return stored(out.ARN, out.VersionId, input.name);
      } catch (error) {
        if (awsErrorName(error) !== 'ResourceNotFoundException') {
          throw classify(error, terminal, what);
        }
      }
      try {
        const out = await this.#sm.send(
          new CreateSecretCommand({
            Name: input.name,
            ClientRequestToken: input.token,
            SecretString: input.passphrase.reveal(),
            Description: 'Export passphrase for acm-cert-export (one version per export)',
            Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
            ...(this.#kmsKeyId === undefined ? {} : { KmsKeyId: this.#kmsKeyId }),
          }),
        );
        return stored(out.ARN, out.VersionId, input.name);
      } catch (error) {
        // Created concurrently by another worker: the next attempt puts a version instead.
        if (awsErrorName(error) === 'ResourceExistsException')
          throw new Error('secret created concurrently; retrying');
        throw classify(error, terminal, what);
      }
    });
  }

  async getVersion(
    secretId: string,
    versionId: string,
  ): Promise<{ value: SecretValue; secretArn: string }> {
    const out = await withRetry(async () => {
      try {
        return await this.#sm.send(
          new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }),
        );
      } catch (error) {
        throw classify(
          error,
          { ...terminal, ResourceNotFoundException: 'PassphraseNotFound' },
          (name) => `Secrets Manager ${name} reading version ${versionId} of ${secretId}`,
        );
      }
    });
    if (out.SecretString === undefined || out.ARN === undefined) {
      throw new TerminalError(
        'PassphraseNotFound',
        `version ${versionId} of ${secretId} holds no string`,
      );
    }
    return { value: new SecretValue(out.SecretString), secretArn: out.ARN };
  }

  async scheduleDeletion(secretId: string, recoveryWindowDays: number): Promise<void> {
    await withRetry(async () => {
      try {
        await this.#sm.send(
          new DeleteSecretCommand({ SecretId: secretId, RecoveryWindowInDays: recoveryWindowDays }),
        );
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') return;
        throw classify(error, terminal, (name) => `Secrets Manager ${name} deleting ${secretId}`);
      }
    });
  }
}

function stored(
  arn: string | undefined,
  versionId: string | undefined,
  name: string,
): StoredPassphrase {
  if (arn === undefined || versionId === undefined) {
    throw new Error(`Secrets Manager returned no ARN or version for ${name}`);
  }
  return { secretArn: arn, versionId };
}
