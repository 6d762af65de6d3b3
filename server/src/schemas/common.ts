import { z } from 'zod';
import { PROVIDER_IDS } from '../providers/registry.js';

/** Public schemas: pure zod, shared by tRPC, REST/OpenAPI and the generated client types. */

export const ProviderSchema = z.enum(PROVIDER_IDS).meta({
  description:
    'AI provider (`GET /v1/providers` lists them with their credential fields). A self-hosted OpenAI-compatible server (vLLM, Ollama, ...) is `openai` with `providerConfig.baseUrl`.',
});
export type Provider = z.infer<typeof ProviderSchema>;

export const ModeSchema = z.enum(['live', 'test']);
export type Mode = z.infer<typeof ModeSchema>;

/**
 * Characters of a URL- and log-safe set, at least one not a dot: `.` and `..` are path
 * segments, which URL parsers resolve away (`/v1/keys/openai/%2e%2e` would name the list
 * route). No lookahead, so the OpenAPI `pattern` stays usable by every generator.
 */
export const REF_ID_PATTERN = /^[A-Za-z0-9_.:@+-]*[A-Za-z0-9_:@+-][A-Za-z0-9_.:@+-]*$/;
const REF_ID_MESSAGE = 'refId must be 1-256 characters of A-Z a-z 0-9 _ . : @ + -, and not only dots';
/** A valid refId (1-256 characters, REF_ID_PATTERN): for places that take one outside a schema. */
export const isRefId = (v: string): boolean => v.length <= 256 && REF_ID_PATTERN.test(v);
export const RefIdSchema = z.string().min(1, REF_ID_MESSAGE).max(256, REF_ID_MESSAGE).regex(REF_ID_PATTERN, REF_ID_MESSAGE).meta({
  description: 'Your identifier for the customer who owns the key (1-256 of `A-Za-z0-9_.:@+-`, not only dots).',
  example: 'customer_123',
});

/** A JSON credential (a Google service-account key file) may hold spaces and line breaks; a key may not. */
const PROVIDER_KEY = /^(?:[\x21-\x7E]{8,4096}|\{[\x20-\x7E\t\r\n]{8,16383})$/;

export const ProviderKeyInputSchema = z
  .string()
  .regex(
    PROVIDER_KEY,
    'providerKey must be 8-4096 printable characters without whitespace (or, for Vertex AI, a JSON key file up to 16 KiB)',
  )
  .meta({
    description:
      "The customer's provider credential: an API key, a Bedrock secret access key or API key, or a Vertex AI service-account key file (JSON, as a string). Write-only: it is never returned.",
    example: 'sk-byo-test-valid',
  });

export { BaseUrlSchema } from './urls.js';

export const KeyStatusSchema = z.enum(['active', 'revoked', 'disabled']);
export const TimestampSchema = z.string().meta({ description: 'ISO 8601 timestamp', example: '2026-01-01T00:00:00.000Z' });

export const CursorSchema = z
  .string()
  .max(512)
  .meta({ description: 'Opaque cursor from a previous page (`nextCursor`).', example: 'eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDBaIn0' })
  .optional();
export const LimitSchema = z.coerce.number().int().min(1).max(100).default(20);
