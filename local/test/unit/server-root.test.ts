import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultReloadCommands,
  parseReloadCommands,
  prepareServerRoot,
  readHeldSerial,
  readReloadLog,
  recordInstantInstall,
  serverRoot,
} from '../../run-command/server-root.ts';

const run = promisify(execFile);

let stateDir: string;
let root: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'server-root-test-'));
  root = serverRoot(stateDir, 'i-0123456789abcdef0');
  await mkdir(root, { recursive: true });
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

const commands = parseReloadCommands(defaultReloadCommands);
const prepare = (reload: 'record' | 'fail' | 'slow' = 'record', slowReloadMs = 100) =>
  prepareServerRoot(root, { reloadCommands: commands, reload, slowReloadMs });

/** Runs a recorder as the install script would: `<root><argv0>` with the other words. */
async function runRecorder(program: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(join(root, program), args, { cwd: '/' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('reload commands a stand-in server allows', () => {
  it('splits each into its words', () => {
    expect(commands).toEqual([
      { line: '/usr/sbin/nginx -s reload', argv: ['/usr/sbin/nginx', '-s', 'reload'] },
      { line: '/usr/bin/systemctl reload nginx', argv: ['/usr/bin/systemctl', 'reload', 'nginx'] },
    ]);
  });

  it.each([
    ['systemctl reload nginx', /absolute path/],
    ['/usr/sbin/../bin/sh -c x', /without \. or \.\./],
    ['/usr/sbin/nginx  -s reload', /single spaces/],
    [' /usr/sbin/nginx', /single spaces/],
    ['/usr/sbin/nginx -s reload; rm -rf /', /only letters/],
    ['/usr/sbin/', /absolute path to a file/],
    ['', /only letters/],
  ])('refuses %j', (line, message) => {
    expect(() => parseReloadCommands([line])).toThrow(message);
  });
});

describe('preparing a server root', () => {
  it('writes the allow-list and a recorder for every allowed program', async () => {
    await prepare();
    const allowList = await readFile(join(root, 'etc/acm-cert-export/reload-commands'), 'utf8');
    const lines = allowList.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual([...defaultReloadCommands]);
    for (const program of ['/usr/sbin/nginx', '/usr/bin/systemctl']) {
      expect((await stat(join(root, program))).mode & 0o777).toBe(0o755);
    }
  });

  it('keeps an allow-list and executables a test placed itself', async () => {
    const allowList = join(root, 'etc/acm-cert-export/reload-commands');
    const nginx = join(root, 'usr/sbin/nginx');
    await mkdir(join(root, 'etc/acm-cert-export'), { recursive: true });
    await mkdir(join(root, 'usr/sbin'), { recursive: true });
    await writeFile(allowList, '/usr/sbin/nginx -t\n');
    await writeFile(nginx, '#!/bin/sh\necho mine\n', { mode: 0o755 });
    await prepare();
    expect(await readFile(allowList, 'utf8')).toBe('/usr/sbin/nginx -t\n');
    expect(await readFile(nginx, 'utf8')).toBe('#!/bin/sh\necho mine\n');
    // The other program had no file: it gets a recorder.
    expect(await readFile(join(root, 'usr/bin/systemctl'), 'utf8')).toContain('reload recorder');
  });

  it('rewrites its own recorder when the server now fails its reloads', async () => {
    await prepare('record');
    expect((await runRecorder('/usr/sbin/nginx', '-s', 'reload')).code).toBe(0);
    await prepare('fail');
    const failed = await runRecorder('/usr/sbin/nginx', '-s', 'reload');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('standin:reload=fail');
    expect((await readReloadLog(stateDir, 'i-0123456789abcdef0')).map((r) => r.exitCode)).toEqual([
      0, 1,
    ]);
  });
});

describe('a recorder', () => {
  it('appends one JSON line per call with the time and the argv, and runs nothing else', async () => {
    await prepare();
    const before = Date.now();
    const first = await runRecorder('/usr/sbin/nginx', '-s', 'reload');
    const second = await runRecorder('/usr/bin/systemctl', 'reload', 'a "quoted" \\ word\tand tab');
    expect(first).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(second.code).toBe(0);
    const records = await readReloadLog(stateDir, 'i-0123456789abcdef0');
    expect(records).toEqual([
      { time: expect.any(String), argv: ['/usr/sbin/nginx', '-s', 'reload'], exitCode: 0 },
      {
        time: expect.any(String),
        argv: ['/usr/bin/systemctl', 'reload', 'a "quoted" \\ word\tand tab'],
        exitCode: 0,
      },
    ]);
    // The clock has milliseconds; allow for a clock read a second earlier by `date`.
    expect(Date.parse(records[0]?.time ?? '')).toBeGreaterThanOrEqual(before - 1000);
  });

  it('runs slowReloadMs on a standin:reload=slow server', async () => {
    await prepare('slow', 300);
    const started = Date.now();
    expect((await runRecorder('/usr/sbin/nginx', '-s', 'reload')).code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('reads no record on a server that never reloaded, and refuses a log it cannot read', async () => {
    expect(await readReloadLog(stateDir, 'i-0123456789abcdef0')).toEqual([]);
    await mkdir(join(root, 'var/log/acm-cert-export'), { recursive: true });
    await writeFile(join(root, 'var/log/acm-cert-export/reloads.log'), '{"time":1}\n');
    await expect(readReloadLog(stateDir, 'i-0123456789abcdef0')).rejects.toThrow(
      /line 1 is not a reload record/,
    );
  });
});

describe('what an instant server leaves, and the serial a server holds', () => {
  const fixture = (name: string) =>
    readFileSync(
      new URL(`../../../service/test/support/fixtures/${name}`, import.meta.url),
      'utf8',
    );
  const certificate = fixture('cert-a.pem');
  const chain = fixture('cert-b.pem');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const sent = (overrides: Record<string, string> = {}) =>
    Object.fromEntries(
      Object.entries({
        CertName: 'web',
        Certificate: b64(certificate),
        CertificateChain: b64(chain),
        CertDir: '/etc/ssl/certs',
        ...overrides,
      }).map(([name, value]) => [name, [value]]),
    );
  const id = 'i-0123456789abcdef0';
  const serial = new X509Certificate(certificate).serialNumber.toUpperCase();

  it('writes the full chain where the script would, and reads its serial back', async () => {
    expect(await readHeldSerial(stateDir, id, { certName: 'web' })).toBeUndefined();
    expect(await recordInstantInstall(root, sent())).toBe(true);
    expect(await readFile(join(root, 'etc/ssl/certs/web-fullchain.pem'), 'utf8')).toBe(
      `${certificate.trimEnd()}\n${chain.trimEnd()}\n`,
    );
    expect(await readHeldSerial(stateDir, id, { certName: 'web' })).toBe(serial);
    expect(await readHeldSerial(stateDir, id, { certName: 'api' })).toBeUndefined();
  });

  it('honours CertDir, and writes nothing for Verify or parameters the script refuses', async () => {
    expect(await recordInstantInstall(root, sent({ CertDir: '/srv/tls' }))).toBe(true);
    expect(await readHeldSerial(stateDir, id, { certName: 'web', certDir: '/srv/tls' })).toBe(
      serial,
    );
    expect(await readHeldSerial(stateDir, id, { certName: 'web' })).toBeUndefined();
    expect(await recordInstantInstall(root, sent({ Mode: 'Verify' }))).toBe(false);
    expect(await recordInstantInstall(root, sent({ CertName: '..' }))).toBe(false);
    expect(await recordInstantInstall(root, sent({ CertDir: '/etc/../../x' }))).toBe(false);
    expect(await recordInstantInstall(root, sent({ Certificate: b64('not a cert') }))).toBe(false);
    expect(await recordInstantInstall(root, { Message: ['hello'] })).toBe(false);
    expect(await readHeldSerial(stateDir, id, { certName: '..', certDir: '/' })).toBeUndefined();
    expect(await readHeldSerial(stateDir, id, { certName: 'web' })).toBeUndefined();
  });

  it('reads no serial from a file that holds no certificate', async () => {
    await mkdir(join(root, 'etc/ssl/certs'), { recursive: true });
    await writeFile(join(root, 'etc/ssl/certs/web-fullchain.pem'), 'garbage\n');
    expect(await readHeldSerial(stateDir, id, { certName: 'web' })).toBeUndefined();
  });
});
