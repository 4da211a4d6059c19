import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';

/**
 * The SSM Command document servers run to install a certificate. Its content is built from
 * ssm/ (ssm/build-document.ts) by the caller, so the template and the local emulator carry the
 * same document. `NewVersion` updates it in place: a new document version instead of a
 * replacement, so a stack update never deletes the document under a running command.
 */
export function createInstallDocument(
  scope: Construct,
  id: string,
  props: { readonly name: string; readonly content: Record<string, unknown> },
): ssm.CfnDocument {
  const schemaVersion = props.content.schemaVersion;
  if (schemaVersion !== '2.2') {
    throw new Error(`the install document must be schemaVersion 2.2, got ${String(schemaVersion)}`);
  }
  return new ssm.CfnDocument(scope, id, {
    name: props.name,
    documentType: 'Command',
    documentFormat: 'JSON',
    content: props.content,
    updateMethod: 'NewVersion',
  });
}
