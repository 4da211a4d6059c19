import { describeDistribution } from './support/lifecycle.ts';

// The install lifecycle on Debian 12, with and without an AWS CLI (support/lifecycle.ts).
describeDistribution({
  codename: 'bookworm',
  release: 12,
  openssl: /^OpenSSL 3\.0\./,
  opensslName: 'OpenSSL 3.0',
  withoutCli: 'hybrid',
});
