/**
 * The summary a stand-in server with `standin:behaviour=instant` prints: what the install script
 * would print had it installed the certificate it was sent (or, with Mode=Verify, found it
 * installed as wanted), without running it. Benchmarks of thousands of servers then measure the
 * orchestration, not openssl; what the install leaves on the server (the certificate's full
 * chain: server-root.ts `recordInstantInstall`) is what a real fleet's would hold, so a check of
 * the fleet after them (`readHeldSerial`) finds it converged.
 */
import { X509Certificate } from 'node:crypto';

function certificateFacts(base64: string | undefined) {
  if (base64 === undefined) return undefined;
  try {
    const cert = new X509Certificate(Buffer.from(base64, 'base64').toString('utf8'));
    return {
      // As `openssl x509 -serial` prints it, which the script reports.
      serial: cert.serialNumber.toUpperCase(),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
      sha256: cert.fingerprint256,
    };
  } catch {
    return undefined;
  }
}

export function instantSummary(values: Readonly<Record<string, readonly string[]>>): string {
  const facts = certificateFacts(values.Certificate?.[0]);
  const verify = values.Mode?.[0] === 'Verify';
  return `${JSON.stringify({
    outcome: verify ? 'verified' : 'installed',
    serial: facts?.serial ?? null,
    notBefore: facts?.notBefore ?? null,
    notAfter: facts?.notAfter ?? null,
    sha256: facts?.sha256 ?? null,
    files: [],
    reloaded: false,
    ...(verify ? { problems: [] } : {}),
    message: 'stand-in: standin:behaviour=instant; the script was not run',
  })}\n`;
}
