import { X509Certificate } from 'node:crypto';
import type { ExportedCertificate } from '../domain/deployment.ts';
import { TerminalError } from '../domain/errors.ts';

/** Serial and validity read from the exported PEM itself: what will actually be installed. */
export function certificateInfo(pem: string): ExportedCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (error) {
    throw new TerminalError('InvalidExport', 'ACM returned a certificate that does not parse', {
      cause: error,
    });
  }
  return {
    serial: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/** A serial as hex digits without separators or leading zeros, lower case. */
function normalSerial(serial: string): string {
  return serial
    .replace(/:/g, '')
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
}

/**
 * Whether two serials are the same number: ACM's DescribeCertificate writes `0a:1b:…`, the
 * certificate itself `0A1B…`.
 */
export function sameSerial(a: string, b: string): boolean {
  return normalSerial(a) === normalSerial(b);
}
