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
  CertName: 'Name stem of the installed files.',
  Certificate: 'Base64 of the PEM certificate.',
  CertificateChain: 'Base64 of the PEM chain, without the certificate.',
  SecretId:
    'Secret (ARN, or name under acm-passphrase/) holding the encrypted key and its passphrase.',
  SecretVersionId: 'Version id of the secret for this export.',
  CertDir: 'Directory of the certificate files.',
  KeyDir: 'Directory of the key.',
  Owner: 'Owner of the files.',
  Group: 'Group of the files.',
  KeyMode: 'Mode of the key: 600, 640, 400 or 440.',
  ReloadCommand:
    'Absolute path and arguments, run without a shell after the files are replaced if it is a line of /etc/acm-cert-export/reload-commands; a failure rolls back. Empty: no reload.',
  Force: 'true: replace even a newer or identical certificate.',
  Formats: 'Extra files: combined, pkcs12 or pkcs12-legacy. Others are removed.',
  Mode: 'Install, or Verify: only check the installed files.',
};

/** The install script's text. */
export function readInstallScript(): string {
  return readFileSync(scriptPath, 'utf8');
}

/**
 * The script as the document carries it: without its comments, blank lines and indentation (the
 * committed script keeps them). SSM refuses a command whose document and parameters exceed
 * 64 KB, and the certificate and chain parameters can take 20 KB of it. The shebang stays
 * (shellcheck directives only matter to the linter). The script has no here-documents, so a line
 * is data only when it starts inside a quoted word that spans lines (the python3 reader's
 * program): such a line, and one continuing a line that ends with a backslash right after a
 * word, is carried as it is. A unit test proves the result with bash itself: both texts, parsed
 * as one function body, print the same.
 */
export function documentScript(script: string): string {
  if (/<<-?\s*['"]?\w+/.test(script)) {
    throw new Error(`${scriptPath} has a here-document: comment stripping is not safe`);
  }
  const lines = script.split('\n');
  const shapes = lineShapes(lines);
  return lines
    .flatMap((line, i) => {
      const { verbatim, code } = shapes[i] as LineShape;
      if (verbatim) return [line];
      const trimmed = (i === 0 ? line : code).trim();
      return trimmed === '' ? [] : [trimmed];
    })
    .join('\n')
    .concat('\n');
}

interface LineShape {
  /** The line starts inside a quoted word ('…', "…", $'…') or continues the line before it. */
  readonly verbatim: boolean;
  /** The line without its comment (a `#` starting a word outside quotes, to the end). */
  readonly code: string;
}

/** A shell quote tracker for this script's text (no here-documents). */
function lineShapes(lines: readonly string[]): LineShape[] {
  let quote: "'" | '"' | "$'" | '' = '';
  let continued = false;
  return lines.map((line) => {
    const verbatim = quote !== '' || continued;
    continued = false;
    let code = line;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote === "'") {
        if (c === "'") quote = '';
      } else if (c === '\\') {
        // A blank before the backslash separates words: the next line's indentation does not.
        if (i === line.length - 1 && quote === '' && !/\s/.test(line[i - 1] ?? ''))
          continued = true;
        i++;
      } else if (quote !== '') {
        if (c === (quote === '"' ? '"' : "'")) quote = '';
      } else if (c === "'" || c === '"') {
        quote = line[i - 1] === '$' && c === "'" ? "$'" : c;
      } else if (c === '#' && (i === 0 || /[\s;&|()]/.test(line[i - 1] ?? ''))) {
        code = line.slice(0, i);
        break;
      }
    }
    return { verbatim, code };
  });
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
      'Installs a certificate exported from ACM, its key read from Secrets Manager; Mode=Verify checks the installed files. Last output line: a JSON summary. Needs SSM Agent 3.3.2746.0+. See docs/target-install.md.',
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
