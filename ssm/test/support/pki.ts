import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate authority made with the openssl CLI in a scratch directory. */
export interface TestCa {
  readonly dir: string;
  /** PEM of the CA certificate. */
  readonly certificate: string;
  /** What ACM would return as CertificateChain for a leaf of this CA (issuer first). */
  readonly chain: string;
  /** Signs leaves: `openssl ca` with this CA's config. */
  readonly configPath: string;
}

export interface TestLeaf {
  /** PEM of the leaf certificate. */
  readonly certificate: string;
  /** PEM chain as ACM returns it: issuing CA first, never the leaf. */
  readonly chain: string;
  /** PKCS#8 PEM `ENCRYPTED PRIVATE KEY` (PBES2, AES-256-CBC), as ACM exports it. */
  readonly encryptedKey: string;
  /** PKCS#8 PEM `PRIVATE KEY` of the same key. */
  readonly plainKey: string;
}

export interface LeafOptions {
  passphrase: string;
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  keyType?: 'ec' | 'rsa';
}

const DAY = 86_400_000;

/** openssl ca's date format: YYYYMMDDHHMMSSZ. */
function caDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function keyPair(type: 'ec' | 'rsa', passphrase: string) {
  const { privateKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    encrypted: privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
      .toString(),
    plain: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function caConfig(dir: string): string {
  return `[ ca ]
default_ca = test_ca
[ test_ca ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/issued
certificate = ${dir}/ca.pem
private_key = ${dir}/ca.key
rand_serial = yes
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
commonName = supplied
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
[ intermediate ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
`;
}

async function initCaDir(dir: string): Promise<string> {
  await mkdir(join(dir, 'issued'), { recursive: true });
  await writeFile(join(dir, 'index.txt'), '');
  const configPath = join(dir, 'ca.cnf');
  await writeFile(configPath, caConfig(dir));
  return configPath;
}

async function sign(
  configPath: string,
  csrPath: string,
  outPath: string,
  extensions: 'leaf' | 'intermediate',
  notBefore: Date,
  notAfter: Date,
): Promise<string> {
  await run('openssl', [
    'ca',
    '-batch',
    '-notext',
    '-config',
    configPath,
    '-extensions',
    extensions,
    '-startdate',
    caDate(notBefore),
    '-enddate',
    caDate(notAfter),
    '-in',
    csrPath,
    '-out',
    outPath,
  ]);
  return readFile(outPath, 'utf8');
}

/**
 * A root CA and an intermediate CA under `dir`; leaves are issued by the intermediate and get
 * the chain "intermediate + root", the shape ACM returns.
 */
export async function aTestCa(dir: string, name = 'Test'): Promise<TestCa> {
  const rootDir = join(dir, 'root');
  const rootConfig = await initCaDir(rootDir);
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(rootDir, 'ca.key'),
    '-out',
    join(rootDir, 'ca.pem'),
    '-days',
    '3650',
    '-subj',
    `/CN=${name} Root CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const root = await readFile(join(rootDir, 'ca.pem'), 'utf8');

  const interDir = join(dir, 'intermediate');
  const configPath = await initCaDir(interDir);
  await run('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(interDir, 'ca.key'),
    '-out',
    join(interDir, 'ca.csr'),
    '-subj',
    `/CN=${name} Intermediate CA`,
  ]);
  const now = Date.now();
  const intermediate = await sign(
    rootConfig,
    join(interDir, 'ca.csr'),
    join(interDir, 'ca.pem'),
    'intermediate',
    new Date(now - 30 * DAY),
    new Date(now + 3000 * DAY),
  );
  return { dir, certificate: intermediate, chain: intermediate + root, configPath };
}

let leafCount = 0;

/** A leaf certificate of `ca` with an encrypted PKCS#8 key, like an ACM export. */
export async function aLeaf(ca: TestCa, options: LeafOptions): Promise<TestLeaf> {
  const now = Date.now();
  const id = `leaf-${process.pid}-${++leafCount}`;
  const { encrypted, plain } = keyPair(options.keyType ?? 'ec', options.passphrase);
  const keyPath = join(ca.dir, `${id}.key`);
  const csrPath = join(ca.dir, `${id}.csr`);
  await writeFile(keyPath, plain, { mode: 0o600 });
  await run('openssl', [
    'req',
    '-new',
    '-key',
    keyPath,
    '-out',
    csrPath,
    '-subj',
    `/CN=${options.commonName ?? `${id}.example.com`}`,
  ]);
  const certificate = await sign(
    ca.configPath,
    csrPath,
    join(ca.dir, `${id}.pem`),
    'leaf',
    options.notBefore ?? new Date(now - DAY),
    options.notAfter ?? new Date(now + 90 * DAY),
  );
  return { certificate, chain: ca.chain, encryptedKey: encrypted, plainKey: plain };
}

export const days = (n: number): number => n * DAY;
