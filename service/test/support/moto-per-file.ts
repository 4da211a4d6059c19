import { relative } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { checkFile, recorderControlVariable, startFile } from '../../../local/iam/bed-hooks.ts';
import { resetMoto } from '../../../local/moto/moto-server.ts';
import { repoRoot } from '../../../local/paths.ts';
import { iamRecorder, motoEndpoint } from './bed-lane.ts';

// Every integration test file starts on an empty emulator (its lane's: files running at the same
// time each have their own, bed-lane.ts) and reaches it through the standard variable, exactly as
// the service does in a deployment that points at a custom endpoint. The endpoint is the IAM
// recorder's front: the service's requests are evaluated against the stack's policies, and
// processes the file spawns inherit the recorder's address.
const endpoint = motoEndpoint();
const recorder = iamRecorder();
process.env.AWS_ENDPOINT_URL = endpoint;
process.env[recorderControlVariable] = recorder;

function currentFile(): string {
  const path = expect.getState().testPath;
  if (path === undefined) throw new Error('no test file path for the IAM recorder');
  return relative(repoRoot, path);
}

beforeAll(async () => {
  await startFile(recorder, currentFile());
  await resetMoto(endpoint);
});

// Registered first, so it runs after the file's own afterAll hooks (they run in reverse order):
// requests made while the file stops its stand-ins and processes are checked too.
afterAll(async () => {
  const { report } = await checkFile(recorder, currentFile());
  if (report !== undefined) throw new Error(report);
});
