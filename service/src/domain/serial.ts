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
