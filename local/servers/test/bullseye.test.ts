import { describeDistribution } from './support/lifecycle.ts';

// The install lifecycle on Debian 11, with and without an AWS CLI (support/lifecycle.ts).
describeDistribution({
  codename: 'bullseye',
  release: 11,
  openssl: /^OpenSSL 1\.1\.1/,
  opensslName: 'OpenSSL 1.1.1',
  withoutCli: 'imds',
});
