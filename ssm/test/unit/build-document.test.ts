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

  it('carries the script without its comments, every command line kept in order', () => {
    const script = readInstallScript();
    const carried = documentScript(script);
    expect(carried.length).toBeLessThan(script.length * 0.8);
    const commands = script.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    expect(carried.split('\n').filter((l) => !l.trim().startsWith('#') && l !== '')).toEqual(
      commands,
    );
    expect(carried.startsWith('#!/usr/bin/env bash\n')).toBe(true);
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
