import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino replaces with `[REDACTED]` wherever they appear in a log object. The code never
 * logs these on purpose; this is the second line of defence (SecretValue is the first).
 */
export const redactPaths = [
  'passphrase',
  '*.passphrase',
  'Passphrase',
  '*.Passphrase',
  'privateKey',
  '*.privateKey',
  'PrivateKey',
  '*.PrivateKey',
  'encryptedPrivateKey',
  '*.encryptedPrivateKey',
  'EncryptedPrivateKey',
  '*.EncryptedPrivateKey',
  '*.*.EncryptedPrivateKey',
  'SecretString',
  '*.SecretString',
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'authorization',
  '*.authorization',
];

export type { Logger };

/** The service's JSON logger. `destination` lets tests capture lines. */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  base: Record<string, unknown> = { service: 'acm-cert-export' },
): Logger {
  return pino(
    {
      level,
      base,
      redact: { paths: redactPaths, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
