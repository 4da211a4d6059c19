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

/** How log lines are written: `auto` is pretty on a terminal, JSON otherwise (LOG_FORMAT). */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** Whether lines written to `out` are pretty: asked for, or `auto` and `out` is a terminal. */
export function isPretty(format: LogFormat, out: { readonly isTTY?: boolean }): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}

/**
 * The process's logger: JSON lines (what CloudWatch, files and pipes get), or readable lines in
 * colour when a person reads them (`isPretty`). pino-pretty is loaded only then, so a process
 * whose output is not a terminal never loads it and starts no slower.
 */
export async function createProcessLogger(
  level: string,
  format: LogFormat,
  out: NodeJS.WritableStream & { readonly isTTY?: boolean } = process.stdout,
): Promise<Logger> {
  if (!isPretty(format, out)) {
    return createLogger(level, out === process.stdout ? undefined : (out as DestinationStream));
  }
  const { default: pretty } = await import('pino-pretty');
  return createLogger(
    level,
    pretty({
      destination: out,
      colorize: out.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      sync: true,
    }),
  );
}

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
