import Type, { type Static } from 'typebox';
import { installOptionPatterns, outputFormats } from '../domain/install-options.ts';
import {
  certificateArnPattern,
  certNamePattern,
  jobIdPattern,
  tagKeyPattern,
  tagValuePattern,
} from '../domain/names.ts';

/**
 * Request schemas shared by the HTTP API and the queue: one definition, identical validation.
 */

export const CertificateArn = Type.String({
  pattern: certificateArnPattern,
  maxLength: 2048,
  description: 'ACM certificate ARN',
});
export const CertName = Type.String({
  pattern: certNamePattern,
  description:
    'Certificate name used in installed file names: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit',
});
export const TagKey = Type.String({ pattern: tagKeyPattern, description: 'EC2/SSM tag key' });
export const TagValue = Type.String({ pattern: tagValuePattern, description: 'EC2/SSM tag value' });
export const JobId = Type.String({
  pattern: jobIdPattern,
  description: '8-128 of A-Z a-z 0-9 _ -',
});

export const Target = Type.Object(
  { key: TagKey, value: TagValue },
  { additionalProperties: false },
);

export const InstallOptionsSchema = Type.Object(
  {
    certDir: Type.Optional(Type.String({ pattern: installOptionPatterns.certDir })),
    keyDir: Type.Optional(Type.String({ pattern: installOptionPatterns.keyDir })),
    owner: Type.Optional(Type.String({ pattern: installOptionPatterns.owner })),
    group: Type.Optional(Type.String({ pattern: installOptionPatterns.group })),
    keyMode: Type.Optional(Type.String({ pattern: installOptionPatterns.keyMode })),
    reloadCommand: Type.Optional(Type.String({ pattern: installOptionPatterns.reloadCommand })),
    formats: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal(outputFormats[0]),
          Type.Literal(outputFormats[1]),
          Type.Literal(outputFormats[2]),
        ]),
        {
          uniqueItems: true,
          maxItems: 2,
          description:
            'Files besides the PEM files, kept for renewals: "combined" (<CertName>-combined.pem in the key directory: full chain then key, for HAProxy), "pkcs12" (<CertName>.p12: key, certificate and chain, AES-256/PBKDF2, for Java 8u301+/11.0.12+/17+ and Windows Server 2019+) or "pkcs12-legacy" (the same file with 3DES/SHA-1, for older Java and Windows); not both PKCS#12 formats. The .p12 password is the pkcs12-password line of the mapping\'s secret, the same across renewals. A format left out has its file removed; [] removes them all.',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** How a deployment rolls out over the target's servers. */
export const RolloutSchema = Type.Object(
  {
    canary: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 50,
        description:
          'Install on this many of the servers first (by instance id, online ones first); the rest only if all of them succeeded. Ignored when the target has no more servers than this.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The original sample's body, kept for existing callers (`POST /export-cert`). */
export const LegacyDeployBody = Type.Object(
  {
    CertificateArn: CertificateArn,
    CertName: CertName,
    TargetTagKey: TagKey,
    TargetTagValue: TagValue,
  },
  { additionalProperties: false },
);
export type LegacyDeployBody = Static<typeof LegacyDeployBody>;

/** The versioned request body (`POST /v1/deployments`). */
export const DeployRequestV1 = Type.Object(
  {
    certificateArn: CertificateArn,
    certName: CertName,
    target: Target,
    install: Type.Optional(InstallOptionsSchema),
    rollout: Type.Optional(RolloutSchema),
  },
  { additionalProperties: false },
);
export type DeployRequestV1 = Static<typeof DeployRequestV1>;
