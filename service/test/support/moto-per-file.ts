import { beforeAll, inject } from 'vitest';
import { resetMoto } from '../../../local/moto/moto-server.ts';

// Every integration test file starts on an empty emulator and reaches it through the standard
// variable, exactly as the service does in a deployment that points at a custom endpoint.
const endpoint = inject('motoEndpoint');
process.env.AWS_ENDPOINT_URL = endpoint;

beforeAll(async () => {
  await resetMoto(endpoint);
});
