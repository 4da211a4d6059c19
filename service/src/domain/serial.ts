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

/**
 * A serial as people read it, the same wherever it is shown (the CLI, job reasons,
 * notifications): as ACM shows it (DescribeCertificate, the console), lower-case hex byte pairs
 * separated by colons, `0a:1b:2c`. Serials arrive in ACM's form (exports, mappings) and in
 * openssl's (`0A1B2C`, what a server's install script reports); both read the same here. Leading
 * zero bytes are dropped (openssl drops them, ACM may not), so one number reads one way. Anything
 * that is not hex is returned as it is.
 */
export function displaySerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return serial;
  const digits = hex.replace(/^0+(?=.)/, '');
  const even = digits.length % 2 === 0 ? digits : `0${digits}`;
  return even.match(/../g)?.join(':') ?? even;
}
