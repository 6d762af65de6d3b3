import { z } from 'zod';

/**
 * Setting fields of `providerConfig` (stored with the key in plaintext: never secrets). The
 * shapes here are loose on purpose: each provider checks its own (providers/<id>/) and answers
 * `invalid_credential` naming the field, which says more than a schema error would.
 * Provider modules import these, so this module must not import the registry.
 */

export const AwsRegionSchema = z.string().max(64).meta({
  description: 'Amazon Bedrock only (required): the AWS region of the models, like `us-east-1`.',
  example: 'us-east-1',
});

export const AwsAccessKeyIdSchema = z.string().max(128).meta({
  description:
    'Amazon Bedrock only: the access key id of an IAM access key; `providerKey` is then its secret access key, and BYO signs each call (SigV4). Without it, `providerKey` is a Bedrock API key.',
  example: 'AKIAIOSFODNN7EXAMPLE',
});

export const VertexLocationSchema = z.string().max(64).meta({
  description: 'Google Vertex AI only (required): the location of the models, like `us-central1`, `europe-west4` or `global`.',
  example: 'us-central1',
});

export const GcpProjectIdSchema = z.string().max(64).meta({
  description: "Google Vertex AI only: the Google Cloud project id. Default: the service-account key file's `project_id`.",
  example: 'my-project',
});
