import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { TerminalError } from '../domain/errors.ts';
import { SecretValue } from '../domain/secret-value.ts';
import type { SecretStore, StoredSecretVersion } from '../ports/secret-store.ts';
import { awsErrorName, classify, withRetry } from './aws-errors.ts';

const terminal = {
  InvalidParameterException: 'InvalidSecretRequest',
  InvalidRequestException: 'InvalidSecretRequest',
  MalformedPolicyDocumentException: 'InvalidSecretRequest',
  EncryptionFailure: 'SecretEncryptionFailed',
  DecryptionFailure: 'SecretDecryptionFailed',
  LimitExceededException: 'SecretLimitExceeded',
};

/**
 * A secret scheduled for deletion refuses new values, and a new secret of its name, with an
 * InvalidRequestException ("… marked for deletion." / "… already scheduled for deletion."):
 * RestoreSecret first. Recognised by the message, the only thing that tells it apart.
 */
function scheduledForDeletion(error: unknown): boolean {
  if (awsErrorName(error) !== 'InvalidRequestException') return false;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /(marked|scheduled) for deletion/i.test(message);
}

/** Thrown inside a retry loop: the secret was restored (or created concurrently); try again now. */
class TryAgain extends Error {
  override readonly name = 'TryAgain';
}

/**
 * Secrets Manager. One secret per mapping, one version per export: a job names the version it
 * used, so a concurrent export for the same mapping cannot change the secret under it.
 */
export class SecretsManagerSecretStore implements SecretStore {
  readonly #sm: SecretsManagerClient;
  readonly #kmsKeyId: string | undefined;

  constructor(sm: SecretsManagerClient, options: { kmsKeyId?: string } = {}) {
    this.#sm = sm;
    this.#kmsKeyId = options.kmsKeyId;
  }

  async putNewVersion(input: {
    name: string;
    tags: Readonly<Record<string, string>>;
    value: SecretValue;
    token: string;
    likelyMissing?: boolean;
  }): Promise<StoredSecretVersion> {
    const what = (name: string) => `Secrets Manager ${name} storing a version of ${input.name}`;
    // A mapping's first export creates its secret: CreateSecret first saves the PutSecretValue
    // that would fail. Once the secret is found to exist (or was restored), a version is put.
    let createFirst = input.likelyMissing === true;
    return withRetry(
      async () => {
        if (createFirst) {
          const created = await this.#create(input, what);
          if (created !== undefined) return created;
          createFirst = false;
        }
        try {
          const out = await this.#sm.send(
            new PutSecretValueCommand({
              SecretId: input.name,
              ClientRequestToken: input.token,
              SecretString: input.value.reveal(),
            }),
          );
          return stored(out.ARN, out.VersionId, input.name);
        } catch (error) {
          if (scheduledForDeletion(error)) await this.#restore(input.name);
          if (awsErrorName(error) !== 'ResourceNotFoundException') {
            throw classify(error, terminal, what);
          }
        }
        const created = await this.#create(input, what);
        // Created concurrently by another worker: the next attempt puts a version instead.
        if (created === undefined) throw new TryAgain('secret created concurrently');
        return created;
      },
      { retries: 4 },
    );
  }

  /**
   * CreateSecret with the first version; undefined when the secret exists already (its version
   * then goes in with PutSecretValue, under the same token: a replay stores nothing new).
   */
  async #create(
    input: {
      name: string;
      tags: Readonly<Record<string, string>>;
      value: SecretValue;
      token: string;
    },
    what: (name: string) => string,
  ): Promise<StoredSecretVersion | undefined> {
    try {
      const out = await this.#sm.send(
        new CreateSecretCommand({
          Name: input.name,
          ClientRequestToken: input.token,
          SecretString: input.value.reveal(),
          Description:
            'acm-cert-export: the encrypted private key and its passphrase, one version per export',
          Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
          ...(this.#kmsKeyId === undefined ? {} : { KmsKeyId: this.#kmsKeyId }),
        }),
      );
      return stored(out.ARN, out.VersionId, input.name);
    } catch (error) {
      if (scheduledForDeletion(error)) await this.#restore(input.name);
      if (awsErrorName(error) === 'ResourceExistsException') return undefined;
      throw classify(error, terminal, what);
    }
  }

  /**
   * Restores a secret scheduled for deletion (a target managed again after stop-managing), then
   * throws TryAgain so that the caller's retry stores the version. Restoring keeps its tags.
   */
  async #restore(name: string): Promise<never> {
    try {
      await this.#sm.send(new RestoreSecretCommand({ SecretId: name }));
    } catch (error) {
      throw classify(error, terminal, (n) => `Secrets Manager ${n} restoring ${name}`);
    }
    throw new TryAgain(`restored ${name}, which was scheduled for deletion`);
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
          { ...terminal, ResourceNotFoundException: 'SecretVersionNotFound' },
          (name) => `Secrets Manager ${name} reading version ${versionId} of ${secretId}`,
        );
      }
    });
    if (out.SecretString === undefined || out.ARN === undefined) {
      throw new TerminalError(
        'SecretVersionNotFound',
        `version ${versionId} of ${secretId} holds no string`,
      );
    }
    return { value: new SecretValue(out.SecretString), secretArn: out.ARN };
  }

  async scheduleDeletion(secretId: string, recoveryWindowDays: number): Promise<boolean> {
    return withRetry(async () => {
      try {
        await this.#sm.send(
          new DeleteSecretCommand({ SecretId: secretId, RecoveryWindowInDays: recoveryWindowDays }),
        );
        return true;
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') return false;
        // Already scheduled (AWS refuses a second DeleteSecret with a window): nothing to do.
        if (scheduledForDeletion(error)) return true;
        throw classify(error, terminal, (name) => `Secrets Manager ${name} deleting ${secretId}`);
      }
    });
  }
}

function stored(
  arn: string | undefined,
  versionId: string | undefined,
  name: string,
): StoredSecretVersion {
  if (arn === undefined || versionId === undefined) {
    throw new Error(`Secrets Manager returned no ARN or version for ${name}`);
  }
  return { secretArn: arn, versionId };
}
