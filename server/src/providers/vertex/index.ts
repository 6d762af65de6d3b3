import { GcpProjectIdSchema, VertexLocationSchema } from '../../schemas/provider-settings.js';
import type { ProviderDefinition } from '../types.js';
import { vertexInvalidKey, vertexSandbox } from './sandbox.js';
import { vertexSigner } from './signer.js';

/**
 * Google Vertex AI: `/v1/proxy/vertex/{path}` goes to the key's location's host with an OAuth
 * token BYO mints from the stored service-account key (signer.ts, token.ts).
 */
export const vertex = {
  id: 'vertex',
  name: 'Google Vertex AI',
  defaultBaseUrl: 'https://{location}-aiplatform.googleapis.com',
  baseUrlEnv: 'BYO_VERTEX_BASE_URL',
  wire: 'google',
  authHeader: 'authorization',
  authValue: (key) => `Bearer ${key}`,
  validation: { method: 'GET', path: '/v1/projects/{projectId}/locations/{location}/models?pageSize=1' },
  signer: vertexSigner,
  // A 403 is about the project (API not enabled, no role); a 401 drops the minted token, and a
  // refused token exchange is what disables the key (proxy/signed.ts).
  rejectsKey: () => false,
  config: {
    location: { kind: 'setting', schema: VertexLocationSchema, required: true },
    projectId: { kind: 'setting', schema: GcpProjectIdSchema, required: false },
  },
  // Required first, as the connect form shows them (the optional one under "Advanced").
  credentials: [
    { field: 'providerConfig.location', label: 'Location', secret: false, required: true, placeholder: 'us-central1' },
    {
      field: 'providerKey',
      label: 'Service-account key (JSON)',
      secret: true,
      required: true,
      placeholder: '{"type": "service_account", ...}',
      helpUrl: 'https://cloud.google.com/iam/docs/keys-create-delete',
    },
    {
      field: 'providerConfig.projectId',
      label: 'Project ID (default: the key file’s project)',
      secret: false,
      required: false,
      placeholder: 'my-project',
    },
  ],
  docsUrl: 'https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest',
  sandbox: { respond: vertexSandbox, invalidKey: vertexInvalidKey },
} as const satisfies ProviderDefinition<'vertex'>;
