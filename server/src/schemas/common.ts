import { z } from 'zod';

/** Public schemas: pure zod, shared by tRPC, REST/OpenAPI and the generated client types. */

export const ProviderSchema = z.enum(['openai', 'anthropic', 'google']).meta({
  description: 'AI provider. An OpenAI-compatible server (vLLM, OpenRouter, Ollama, ...) is `openai` with `providerConfig.baseUrl`.',
});
export type Provider = z.infer<typeof ProviderSchema>;

export const ModeSchema = z.enum(['live', 'test']);
export type Mode = z.infer<typeof ModeSchema>;

/** 1–256 characters of a URL- and log-safe set. */
export const REF_ID_PATTERN = /^[A-Za-z0-9_.:@+-]{1,256}$/;
export const RefIdSchema = z
  .string()
  .regex(REF_ID_PATTERN, 'refId must be 1-256 characters of A-Z a-z 0-9 _ . : @ + -')
  .meta({ description: 'Your identifier for the customer who owns the key (1-256 of `A-Za-z0-9_.:@+-`).', example: 'customer_123' });

export const ProviderKeyInputSchema = z
  .string()
  .regex(/^[\x21-\x7E]{8,4096}$/, 'providerKey must be 8-4096 printable characters without whitespace')
  .meta({ description: "The customer's provider API key. Write-only: it is never returned.", example: 'sk-byo-test-valid' });

export const BaseUrlSchema = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.hash;
    } catch {
      return false;
    }
  }, 'baseUrl must be an absolute https URL without credentials or fragment')
  .meta({
    description: 'Base URL of an OpenAI-compatible server, exactly as its SDK would use it.',
    example: 'https://openrouter.ai/api/v1',
  });

export const KeyStatusSchema = z.enum(['active', 'revoked', 'disabled']);
export const TimestampSchema = z.string().meta({ description: 'ISO 8601 timestamp', example: '2026-01-01T00:00:00.000Z' });

export const CursorSchema = z
  .string()
  .max(512)
  .meta({ description: 'Opaque cursor from a previous page (`nextCursor`).', example: 'eyJ0IjoiMjAyNi0wMS0wMVQwMDowMDowMC4wMDBaIn0' })
  .optional();
export const LimitSchema = z.coerce.number().int().min(1).max(100).default(20);
