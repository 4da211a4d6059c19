/**
 * Builds the SSM Command document Install-ACMCertificate from its install script, the one
 * source of truth: the script's text becomes the document's only step, and the parameters'
 * allowedPattern and default values are read from the script's PATTERN_/DEFAULT_ constants.
 *
 * CLI: `node ssm/build-document.ts` writes ssm/Install-ACMCertificate.yaml;
 * `node ssm/build-document.ts --check` exits 1 when the committed file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const documentName = 'Install-ACMCertificate';

/** The install script, the body of the document's step. */
export const scriptPath = fileURLToPath(new URL('./install-acm-certificate.sh', import.meta.url));

/** The generated document, committed next to this file. */
export const documentPath = fileURLToPath(
  new URL('./Install-ACMCertificate.yaml', import.meta.url),
);

/** The document's step name, which is also the plugin name Run Command reports. */
export const stepName = 'installCertificate';

/** Execution timeout of the step, in seconds. */
export const executionTimeoutSeconds = 600;

/** Every parameter of the document, in document order. */
export const documentParameterNames = [
  'CertName',
  'Certificate',
  'CertificateChain',
  'SecretId',
  'SecretVersionId',
  'CertDir',
  'KeyDir',
  'Owner',
  'Group',
  'KeyMode',
  'ReloadCommand',
  'Force',
  'Mode',
  'Formats',
] as const;

export type DocumentParameterName = (typeof documentParameterNames)[number];

const descriptions: Record<DocumentParameterName, string> = {
  CertName:
    'File name stem of the installed files (<CertName>-fullchain.pem, -chain.pem, -privkey.pem).',
  Certificate: 'Base64 of the PEM certificate returned by ACM ExportCertificate.',
  CertificateChain:
    'Base64 of the PEM chain returned by ACM ExportCertificate (without the certificate).',
  SecretId:
    'ARN or name (under acm-passphrase/) of the Secrets Manager secret holding the encrypted private key and its passphrase. The key is never a parameter: Run Command keeps parameters in its history.',
  SecretVersionId: 'Version id of the secret written for this export.',
  CertDir: 'Absolute directory for the certificate files.',
  KeyDir: 'Absolute directory for the decrypted private key.',
  Owner: 'Owner of the installed files.',
  Group: 'Group of the installed files.',
  KeyMode: 'Octal mode of the private key file: 600, 640, 400 or 440.',
  ReloadCommand:
    "Command run after the files are replaced: an absolute path and arguments, split on spaces and never run by a shell; it must be a line of the server's allow-list /etc/acm-cert-export/reload-commands. The files are rolled back when it fails. Empty: no reload.",
  Force: 'true: replace the installed certificate even when it is newer, or identical.',
  Formats:
    'Extra files, installed like the key: combined (<CertName>-combined.pem), pkcs12 or pkcs12-legacy (<CertName>.p12, password from the secret). Others are removed.',
  Mode: 'Install (default): install the certificate, repairing drifted files. Verify: check the installed files against Certificate and CertificateChain; reads no secret, changes nothing, exits 0 (outcome verified or drift).',
};

/** The install script's text. */
export function readInstallScript(): string {
  return readFileSync(scriptPath, 'utf8');
}

/**
 * The script as the document carries it: without its comment lines and blank lines (the
 * committed script keeps them). SSM refuses a command whose document and parameters exceed
 * 64 KB, and the certificate and chain parameters can take 20 KB of it. The shebang and
 * shellcheck directives stay. The script has no here-documents, so no line starting with `#`
 * is data.
 */
export function documentScript(script: string): string {
  if (/<<-?\s*['"]?\w+/.test(script)) {
    throw new Error(`${scriptPath} has a here-document: comment stripping is not safe`);
  }
  return script
    .split('\n')
    .filter((line, i) => {
      const trimmed = line.trim();
      if (trimmed === '') return false;
      if (!trimmed.startsWith('#')) return true;
      return i === 0 || trimmed.startsWith('# shellcheck');
    })
    .join('\n')
    .concat('\n');
}

/** Reads `readonly <KIND>_<name>='<value>'` from the script. */
function scriptConstant(script: string, kind: 'PATTERN' | 'DEFAULT', name: string) {
  const match = new RegExp(`^readonly ${kind}_${name}='([^']*)'$`, 'm').exec(script);
  return match?.[1];
}

function parameter(script: string, name: DocumentParameterName): Record<string, unknown> {
  const allowedPattern = scriptConstant(script, 'PATTERN', name);
  if (allowedPattern === undefined) {
    throw new Error(`${scriptPath} has no PATTERN_${name}: every parameter needs a pattern`);
  }
  const defaultValue = scriptConstant(script, 'DEFAULT', name);
  return {
    type: 'String',
    description: descriptions[name],
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    allowedPattern,
    interpolationType: 'ENV_VAR',
  };
}

/** The document as an object (what CloudFormation's AWS::SSM::Document `Content` takes). */
export function buildDocumentObject(): Record<string, unknown> {
  const script = readInstallScript();
  if (script.includes('{{')) {
    throw new Error(`${scriptPath} must not contain "{{": SSM would interpolate it`);
  }
  return {
    schemaVersion: '2.2',
    description:
      'Installs a certificate exported from AWS Certificate Manager: reads the encrypted key and its passphrase from Secrets Manager, checks key, validity and chain, refuses downgrades, replaces the files atomically, runs an allow-listed reload and rolls back on failure; Mode=Verify only checks the installed files. Prints a JSON summary as the last line of output. Needs SSM Agent 3.3.2746.0 or later. See docs/target-install.md.',
    parameters: Object.fromEntries(
      documentParameterNames.map((name) => [name, parameter(script, name)]),
    ),
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: stepName,
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: { timeoutSeconds: executionTimeoutSeconds, runCommand: [documentScript(script)] },
      },
    ],
  };
}

/** The document as YAML text, exactly as committed in ssm/Install-ACMCertificate.yaml. */
export function buildDocument(): string {
  const header =
    '# Generated by ssm/build-document.ts from ssm/install-acm-certificate.sh: do not edit.\n' +
    '# Regenerate with `node ssm/build-document.ts`.\n';
  return header + stringify(buildDocumentObject(), { lineWidth: 0 });
}

function main(args: string[]): number {
  const text = buildDocument();
  if (args.includes('--check')) {
    const committed = readFileSync(documentPath, 'utf8');
    if (committed === text) return 0;
    console.error(`${documentPath} is out of date: run "node ssm/build-document.ts"`);
    return 1;
  }
  writeFileSync(documentPath, text);
  console.error(`wrote ${documentPath}`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
