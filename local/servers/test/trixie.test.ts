import { describeDistribution } from './support/lifecycle.ts';

// The install lifecycle on Debian 13, with and without an AWS CLI (support/lifecycle.ts).
describeDistribution({
  codename: 'trixie',
  release: 13,
  openssl: /^OpenSSL 3\.5\./,
  opensslName: 'OpenSSL 3.5',
  withoutCli: 'imds',
});
