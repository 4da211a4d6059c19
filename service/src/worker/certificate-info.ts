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

/** Moved to the domain (the API counts converged servers with it); kept here for the worker. */
export { sameSerial } from '../domain/serial.ts';
