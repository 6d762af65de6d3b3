import { AwsAccessKeyIdSchema, AwsRegionSchema } from '../../schemas/provider-settings.js';
import type { ProviderDefinition } from '../types.js';
import { bedrockInvalidKey, bedrockSandbox } from './sandbox.js';
import { bedrockRejectsKey, bedrockSigner } from './signer.js';

const KEYS = 'https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html';

/**
 * Amazon Bedrock: `/v1/proxy/bedrock/{path}` goes to the key's region's runtime host, signed
 * with SigV4 (an IAM access key) or with a Bedrock API key as Bearer (signer.ts).
 */
export const bedrock = {
  id: 'bedrock',
  name: 'Amazon Bedrock',
  defaultBaseUrl: 'https://bedrock-runtime.{region}.amazonaws.com',
  baseUrlEnv: 'BYO_BEDROCK_BASE_URL',
  wire: 'bedrock',
  // Unused (the signer sends the credential); the shape of a Bedrock API key, for reference.
  authHeader: 'authorization',
  authValue: (key) => `Bearer ${key}`,
  validation: { method: 'GET', path: '/async-invoke?maxResults=1' },
  signer: bedrockSigner,
  rejectsKey: bedrockRejectsKey,
  config: {
    region: { kind: 'setting', schema: AwsRegionSchema, required: true },
    accessKeyId: { kind: 'setting', schema: AwsAccessKeyIdSchema, required: false },
  },
  // Required first, as the connect form shows them (the optional one under "Advanced").
  credentials: [
    { field: 'providerConfig.region', label: 'AWS region', secret: false, required: true, placeholder: 'us-east-1' },
    {
      field: 'providerKey',
      label: 'Secret access key or Bedrock API key',
      secret: true,
      required: true,
      placeholder: 'wJalrXUtnFEMI/... or ABSK...',
      helpUrl: KEYS,
    },
    {
      field: 'providerConfig.accessKeyId',
      label: 'Access key ID (leave empty for a Bedrock API key)',
      secret: false,
      required: false,
      placeholder: 'AKIA...',
      helpUrl: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html',
    },
  ],
  docsUrl: 'https://docs.aws.amazon.com/bedrock/latest/APIReference/API_Operations_Amazon_Bedrock_Runtime.html',
  sandbox: { respond: bedrockSandbox, invalidKey: bedrockInvalidKey },
} as const satisfies ProviderDefinition<'bedrock'>;
