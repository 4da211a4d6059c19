import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  buildDocument,
  buildDocumentObject,
  documentParameterNames,
  documentPath,
  documentScript,
  readInstallScript,
  stepName,
} from '../../build-document.ts';

type Parameter = {
  type: string;
  default?: string;
  allowedPattern: string;
  interpolationType: string;
};
const document = buildDocumentObject() as {
  schemaVersion: string;
  parameters: Record<string, Parameter>;
  mainSteps: { action: string; name: string; inputs: { runCommand: string[] } }[];
};
const pattern = (name: string) => new RegExp(document.parameters[name]?.allowedPattern ?? '(?!)');

describe('the Install-ACMCertificate document', () => {
  it('is committed exactly as the generator builds it from the script', () => {
    expect(readFileSync(documentPath, 'utf8')).toBe(buildDocument());
  });

  it('parses back to the document object, with the script as its only step', () => {
    expect(parse(buildDocument())).toEqual(document);
    expect(document.schemaVersion).toBe('2.2');
    expect(document.mainSteps).toHaveLength(1);
    expect(document.mainSteps[0]).toMatchObject({ action: 'aws:runShellScript', name: stepName });
    expect(document.mainSteps[0]?.inputs.runCommand).toEqual([documentScript(readInstallScript())]);
    expect(readInstallScript()).not.toContain('{{');
  });

  it('carries the script without its comments, blank lines and indentation, every command kept in order', () => {
    const script = readInstallScript();
    const carried = documentScript(script);
    expect(carried.length).toBeLessThan(script.length * 0.8);
    expect(carried.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    // Outside the python3 reader's program (one quoted word, carried as it is): no comment, no
    // blank line, no indentation, and every other line of the script, trimmed, in order.
    const [before = '', program = '', after = ''] = carried.split(/(reader_py='[^']*')/);
    expect(program.split('\n').length).toBeGreaterThan(40);
    expect(script).toContain(program);
    const outside = (text: string) => text.split('\n').slice(0, -1);
    const lines = [...outside(before).slice(1), ...outside(after).slice(1)];
    for (const line of lines) expect(line).toMatch(/^[^\s#]/);
    const [scriptBefore = '', , scriptAfter = ''] = script.split(/(reader_py='[^']*')/);
    const commands = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
    const scriptLines = [...commands(scriptBefore), ...commands(scriptAfter)];
    expect(lines.filter((l) => l !== '')).toHaveLength(scriptLines.length);
    scriptLines.forEach((line, i) => {
      // The same line, or the same without its trailing comment.
      const kept = lines[i] ?? '';
      expect(
        line === kept || (line.startsWith(kept) && /^\s+#/.test(line.slice(kept.length))),
        line,
      ).toBe(true);
    });
  });

  // bash reprints a function body from its parse tree (declare -f): comments, blank lines and
  // indentation are gone, quoted words kept as they are. The same reprint for two texts proves
  // that they are the same program.
  const reprint = (text: string) =>
    execFileSync('bash', ['-c', 'eval "__carried() {\n$1\n}" && declare -f __carried', '_', text], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });

  it('keeps what is data: lines inside quoted words, a line continuing a word, # inside words', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text, not a template
    const hashes = 'printf "%s" "${#x}" \'#\' $# "${y%%#*}"';
    const text = [
      '#!/usr/bin/env bash',
      '# a comment',
      '  a=1   # a trailing comment',
      "  b='first",
      '  # data, not a comment',
      "    last'",
      '  c="p # q" \\',
      '    d',
      '  e=word\\',
      '    continued',
      `  ${hashes}`,
      '',
      'f() { echo "$1"; }',
      '',
    ].join('\n');
    expect(documentScript(text)).toBe(
      [
        '#!/usr/bin/env bash',
        'a=1',
        "b='first",
        '  # data, not a comment',
        "    last'",
        'c="p # q" \\',
        'd',
        'e=word\\',
        '    continued',
        hashes,
        'f() { echo "$1"; }',
        '',
      ].join('\n'),
    );
    expect(reprint(documentScript(text))).toBe(reprint(text));
  });

  it('carries a script that bash parses exactly as the committed one', () => {
    const script = readInstallScript();
    const carried = documentScript(script);
    expect(carried).not.toBe(script);
    expect(reprint(carried)).toBe(reprint(script));
    // The check tells programs apart: one changed indentation inside the program is seen.
    expect(reprint(carried.replace('\ncr=[env', '\n cr=[env'))).not.toBe(reprint(script));
  });

  it('declares every parameter as a String with a pattern, passed only as an environment variable', () => {
    expect(Object.keys(document.parameters)).toEqual([...documentParameterNames]);
    for (const [name, parameter] of Object.entries(document.parameters)) {
      expect(parameter.type, name).toBe('String');
      expect(parameter.interpolationType, name).toBe('ENV_VAR');
      expect(() => new RegExp(parameter.allowedPattern), name).not.toThrow();
    }
  });

  it('has the contract defaults and required parameters', () => {
    const defaults = Object.fromEntries(
      Object.entries(document.parameters)
        .filter(([, p]) => p.default !== undefined)
        .map(([name, p]) => [name, p.default]),
    );
    expect(defaults).toEqual({
      CertDir: '/etc/ssl/certs',
      KeyDir: '/etc/ssl/private',
      Owner: 'root',
      Group: 'root',
      KeyMode: '600',
      ReloadCommand: '',
      Force: 'false',
      Mode: 'Install',
      Formats: '',
    });
    for (const [name, value] of Object.entries(defaults)) {
      expect(pattern(name).test(value ?? ''), name).toBe(true);
    }
  });
});

describe('the parameter patterns', () => {
  it.each([
    ['CertName', 'web'],
    ['CertName', 'api.example.com'],
    ['CertName', 'wildcard_example-com'],
    ['Certificate', 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t+/='],
    ['SecretId', 'acm-passphrase/prod/web-1'],
    ['SecretId', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:acm-passphrase/web-AbC123'],
    [
      'SecretId',
      'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:acm-passphrase/x',
    ],
    ['SecretVersionId', '3f1c2a9e-1b2c-4d5e-8f90-123456789abc'],
    ['CertDir', '/etc/nginx/tls'],
    ['Owner', 'www-data'],
    ['KeyMode', '0640'],
    ['ReloadCommand', '/usr/bin/systemctl reload nginx'],
    ['ReloadCommand', '/usr/sbin/nginx -s reload'],
    ['Force', 'true'],
    ['Mode', 'Install'],
    ['Mode', 'Verify'],
    ['Formats', ''],
    ['Formats', 'combined'],
    ['Formats', 'pkcs12-legacy'],
    ['Formats', 'combined,pkcs12'],
  ])('accept %s = %j', (name, value) => {
    expect(pattern(name).test(value)).toBe(true);
  });

  it.each([
    ['CertName', '../etc/passwd'],
    ['CertName', 'a/b'],
    ['CertName', '.'],
    ['CertName', '..'],
    ['CertName', '.hidden'],
    ['CertName', 'a b'],
    ['CertName', '$(id)'],
    ['CertName', '`id`'],
    ['CertName', 'web\nx'],
    ['CertName', 'web\n'],
    ['CertName', 'a"b'],
    ['CertName', "a'b"],
    ['CertName', ''],
    ['CertName', 'x'.repeat(65)],
    ['Certificate', 'abc def'],
    ['Certificate', '$(id)'],
    ['Certificate', ''],
    ['SecretId', 'other-secret'],
    ['SecretId', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other'],
    ['SecretId', 'acm-passphrase/$(id)'],
    ['SecretId', 'acm-passphrase/a b'],
    ['SecretVersionId', 'short'],
    ['SecretVersionId', '3f1c2a9e-1b2c-4d5e-8f90-123456789abc; rm'],
    ['CertDir', 'etc/ssl'],
    ['CertDir', '/etc/ssl certs'],
    ['CertDir', '/etc/$(id)'],
    ['CertDir', '/etc/ssl\n'],
    ['Owner', 'Root'],
    ['Owner', 'a b'],
    ['Owner', '../x'],
    ['Formats', 'jks'],
    ['Formats', 'pkcs12,combined'],
    ['Formats', 'pkcs12,pkcs12-legacy'],
    ['Formats', 'combined,combined'],
    ['Formats', 'combined;id'],
    ['KeyMode', '6000'],
    ['KeyMode', 'u+rw'],
    ['ReloadCommand', 'systemctl reload nginx'],
    ['ReloadCommand', 'systemctl reload nginx; rm -rf /'],
    ['ReloadCommand', 'systemctl reload $(id)'],
    ['ReloadCommand', 'nginx `id`'],
    ['ReloadCommand', 'a|b'],
    ['ReloadCommand', 'a > b'],
    ['ReloadCommand', 'a && b'],
    ['ReloadCommand', "sh -c 'x'"],
    ['ReloadCommand', 'a\nb'],
    ['Force', 'yes'],
    ['Force', 'TRUE'],
    ['Mode', 'verify'],
    ['Mode', 'VERIFY'],
    ['Mode', 'Repair'],
    ['Mode', ''],
    ['Mode', 'Install|Verify'],
    ['Mode', 'InstallVerify'],
    ['Mode', 'Verify\n'],
    ['Mode', ' Verify'],
    ['Mode', 'Verify; id'],
  ])('reject %s = %j', (name, value) => {
    expect(pattern(name).test(value)).toBe(false);
  });
});
