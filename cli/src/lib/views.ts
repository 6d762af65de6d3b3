import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from 'byo-server/router';
import type { Column } from './output.js';
import { shortTime, statusStyle } from './output.js';

/** Output types of every procedure, straight from the router. */
export type Outputs = inferRouterOutputs<AppRouter>;
export type Project = Outputs['projects']['list']['data'][number];
export type ApiKey = Outputs['apiKeys']['list']['data'][number];
export type CreatedApiKey = Outputs['apiKeys']['create'];
export type ProviderKey = Outputs['keys']['list']['data'][number];

export const projectColumns: Column<Project>[] = [
  { header: 'id', get: (p) => p.id },
  { header: 'name', get: (p) => p.name },
  { header: 'allowed origins', get: (p) => p.allowedOrigins.join(',') },
  { header: 'validate', get: (p) => (p.validateOnConnect ? 'yes' : 'no') },
  { header: 'pk connect', get: (p) => p.publishableConnect },
  { header: 'created', get: (p) => shortTime(p.createdAt) },
];

export function apiKeyState(k: ApiKey, now = Date.now()): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt) return Date.parse(k.expiresAt) <= now ? 'expired' : 'expiring';
  return 'active';
}

export const apiKeyColumns: Column<ApiKey>[] = [
  { header: 'id', get: (k) => k.id },
  { header: 'kind', get: (k) => k.kind },
  { header: 'mode', get: (k) => k.mode },
  { header: 'key', get: (k) => k.keyHint },
  { header: 'status', get: (k) => apiKeyState(k), style: (v) => (v === 'expired' ? 'red' : v === 'expiring' ? 'yellow' : statusStyle(v)) },
  { header: 'expires', get: (k) => shortTime(k.expiresAt) },
  { header: 'last used', get: (k) => shortTime(k.lastUsedAt) },
  { header: 'created', get: (k) => shortTime(k.createdAt) },
];

export const createdKeyColumns: Column<CreatedApiKey>[] = [
  { header: 'id', get: (k) => k.id },
  { header: 'kind', get: (k) => k.kind },
  { header: 'mode', get: (k) => k.mode },
  { header: 'key (shown once)', get: (k) => k.key },
];

export const providerKeyColumns: Column<ProviderKey>[] = [
  { header: 'provider', get: (k) => k.provider },
  { header: 'ref id', get: (k) => k.refId },
  { header: 'status', get: (k) => k.status, style: statusStyle },
  { header: 'key', get: (k) => k.keyHint },
  { header: 'base url', get: (k) => k.baseUrl },
  { header: 'last check', get: (k) => (k.lastValidation ? `${k.lastValidation.outcome} ${shortTime(k.lastValidation.at)}` : null) },
  { header: 'models', get: (k) => (k.models ? String(k.models.length) : null) },
  { header: 'updated', get: (k) => shortTime(k.updatedAt) },
];

export type WebhookEndpoint = Outputs['webhooks']['endpoints']['list']['data'][number];
export type WebhookDelivery = Outputs['webhooks']['deliveries']['list']['data'][number];

export const endpointColumns: Column<WebhookEndpoint>[] = [
  { header: 'id', get: (e) => e.id },
  { header: 'url', get: (e) => e.url },
  { header: 'events', get: (e) => e.events.join(',') },
  { header: 'enabled', get: (e) => (e.enabled ? 'yes' : 'no'), style: (v) => (v === 'no' ? 'yellow' : undefined) },
  { header: 'failing since', get: (e) => shortTime(e.failingSince), style: (v) => (v !== '-' ? 'red' : undefined) },
  { header: 'secret overlap until', get: (e) => shortTime(e.previousSecretExpiresAt) },
  { header: 'description', get: (e) => e.description },
];

export const deliveryColumns: Column<WebhookDelivery>[] = [
  { header: 'id', get: (d) => d.id },
  { header: 'event', get: (d) => d.eventType },
  { header: 'event id', get: (d) => d.eventId },
  { header: 'endpoint', get: (d) => d.endpointId },
  { header: 'status', get: (d) => d.status, style: statusStyle },
  { header: 'attempts', get: (d) => d.attempts },
  { header: 'last code', get: (d) => d.lastStatusCode ?? (d.lastError ? 'error' : null) },
  { header: 'next attempt', get: (d) => shortTime(d.nextAttemptAt) },
  { header: 'created', get: (d) => shortTime(d.createdAt) },
];
