import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOptions } from '../../../src/aws/clients.ts';
import { anExportableCertificate } from '../../support/builders/certificates.ts';
import { anInstance } from '../../support/builders/instances.ts';
import { aRunningSystem, type RunningSystem } from '../../support/running-system.ts';
import { drainDeadLetters, enqueue, finished, installedFile, serialOf } from './helpers.ts';

// A certificate of another region of the account: ACM answers for it only in its own region, so
// the service describes and exports it there. The bed's stack grants ACM in us-east-1 and
// eu-west-1 (certificateRegions), and the IAM recorder evaluates the eu-west-1 calls.
let system: RunningSystem;
let irish: ACMClient;
let server: string;

beforeAll(async () => {
  system = await aRunningSystem({ env: { CERTIFICATE_REGIONS: 'us-east-1,eu-west-1' } });
  irish = new ACMClient(clientOptions({ ...system.clients.config, region: 'eu-west-1' }, 'acm'));
  server = await anInstance(system.clients.ec2, { tags: { env: 'dev' } });
});

afterAll(async () => {
  irish?.destroy();
  await system?.stop();
});

describe('a certificate of another region', () => {
  it('is described and exported in its own region and installed', async () => {
    const arn = await anExportableCertificate(irish);
    expect(arn).toMatch(/^arn:aws:acm:eu-west-1:/);
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-region-0001',
      certificateArn: arn,
      certName: 'irish',
      target: { key: 'env', value: 'dev' },
    });
    const d = await finished(system, 'it-region-0001');
    expect(d.status, d.reason).toBe('Succeeded');
    const { Certificate } = await irish.send(
      new DescribeCertificateCommand({ CertificateArn: arn }),
    );
    const installed = await installedFile(system, server, 'etc/ssl/certs/irish-fullchain.pem');
    expect(serialOf(installed.text)).toBe(
      (Certificate?.Serial ?? '').replaceAll(':', '').toLowerCase(),
    );
  });

  it('of a region the service does not export from goes to the dead-letter queue, saying why', async () => {
    await enqueue(system, {
      type: 'deploy',
      version: 1,
      jobId: 'it-region-0002',
      certificateArn:
        'arn:aws:acm:ap-southeast-2:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      certName: 'far',
      target: { key: 'env', value: 'dev' },
    });
    const [dead] = await drainDeadLetters(system, 1);
    expect(dead?.reason).toContain('/certificateArn is a certificate of ap-southeast-2');
    expect(dead?.reason).toContain('CERTIFICATE_REGIONS: us-east-1, eu-west-1');
  });
});
