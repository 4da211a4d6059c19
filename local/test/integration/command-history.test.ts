import { CreateDocumentCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { aStandIn } from '../support/stand-in.ts';

/**
 * Every stand-in checks, when it stops, that no command it was sent carries key material (the
 * service's own commands across the suite are checked that way). This shows the check fails.
 */
describe("the check of Run Command's history", () => {
  it('fails a stand-in that was sent a key, naming the command and parameter, never the value', async () => {
    const standIn = await aStandIn();
    await standIn.ssm.send(
      new CreateDocumentCommand({
        Name: 'StandIn-Echo',
        DocumentType: 'Command',
        DocumentFormat: 'JSON',
        Content: JSON.stringify({
          schemaVersion: '2.2',
          description: 'Takes one base64 parameter.',
          parameters: { Blob: { type: 'String', allowedPattern: '^[A-Za-z0-9+/=]*$' } },
          mainSteps: [
            { action: 'aws:runShellScript', name: 'echo', inputs: { runCommand: ['true'] } },
          ],
        }),
      }),
    );
    const key =
      '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n';
    const sent = await standIn.ssm.send(
      new SendCommandCommand({
        DocumentName: 'StandIn-Echo',
        Targets: [{ Key: 'tag:env', Values: ['nobody-has-this'] }],
        Parameters: { Blob: [Buffer.from(key).toString('base64')] },
      }),
    );
    const stopped = standIn.stop();
    await expect(stopped).rejects.toThrow(
      `key material in Run Command's history: command ${sent.Command?.CommandId} parameter Blob`,
    );
    await expect(stopped).rejects.not.toThrow(/MIIFHDBOBgkqhkiG9w0BBQ0w/);
  });
});
