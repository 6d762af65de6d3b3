import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ProviderId } from '../providers/registry.js';

/** The whole database, as kysely sees it. Timestamps are `timestamptz`, read as Date. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;
/** `bigint`: pg reads it as a string (exact), PGlite as a number; map it with Number() where read (usage/query.ts). */
type BigintSum = ColumnType<string | number, number, number>;
type NullableBigintSum = ColumnType<string | number | null, number | null, number | null>;

export type Mode = 'live' | 'test';
/** Stored as text: the registry decides which ids exist (server/src/providers/registry.ts). */
export type ProviderName = ProviderId;
export type ProviderKeyStatus = 'active' | 'revoked' | 'disabled';

export interface ProjectsTable {
  id: string;
  name: string;
  allowed_origins: Json<string[]>;
  allowed_base_url_hosts: Json<string[]>;
  validate_on_connect: boolean;
  publishable_connect: 'open' | 'token_required';
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  project_id: string;
  kind: 'pk' | 'sk';
  mode: Mode;
  key_hash: string;
  key_hint: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface ProviderKeysTable {
  id: string;
  project_id: string;
  mode: Mode;
  provider: ProviderName;
  ref_id: string;
  status: ProviderKeyStatus;
  key_hint: string | null;
  base_url: string | null;
  /** Provider settings (region, location, ...), never secrets. */
  provider_config: ColumnType<Record<string, string> | null, string | null | undefined, string | null>;
  /** The key owner's cap (JSON array of limits) given at connect; null: none (limits/). */
  owner_limits: string | null;
  ciphertext: Buffer | null;
  wrapped_key: Buffer | null;
  master_key_id: string | null;
  status_reason: string | null;
  last_validated_at: NullableTimestamp;
  /** `valid`, `invalid`, or `unknown` (the provider could not be asked). */
  last_validation_result: string | null;
  /** Why the last check said what it said (never the key). */
  last_validation_message: string | null;
  /** When the key is next due for a scheduled check (key-health/); null: not scheduled yet. */
  next_check_at: NullableTimestamp;
  /** Consecutive checks the provider refused the key at. */
  invalid_checks: Generated<number>;
  /** Consecutive checks that could not reach the provider (the backoff). */
  unreachable_checks: Generated<number>;
  /** The model ids the provider's listing gave for this key (sorted); null: not listed yet, or no listing. */
  models: ColumnType<string[] | null, string | null | undefined, string | null>;
  models_checked_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConnectTokensTable {
  id: string;
  project_id: string;
  mode: Mode;
  token_hash: string;
  ref_id: string;
  providers: Json<string[] | null>;
  allow_base_url: boolean;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface EventsTable {
  seq: Generated<string>;
  id: string;
  project_id: string;
  mode: Mode;
  type: string;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
  fanned_out_at: NullableTimestamp;
}

export interface WebhookEndpointsTable {
  id: string;
  project_id: string;
  mode: Mode;
  url: string;
  description: string | null;
  events: Json<string[]>;
  enabled: boolean;
  disabled_reason: string | null;
  secret_ciphertext: Buffer;
  secret_wrapped_key: Buffer;
  secret_master_key_id: string;
  previous_secret_ciphertext: Buffer | null;
  previous_secret_wrapped_key: Buffer | null;
  previous_secret_master_key_id: string | null;
  previous_secret_expires_at: NullableTimestamp;
  failing_since: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  project_id: string;
  mode: Mode;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: NullableTimestamp;
  locked_until: NullableTimestamp;
  last_status_code: number | null;
  last_error: string | null;
  last_response: string | null;
  last_latency_ms: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  project_id: string | null;
  mode: Mode | null;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  user_agent: string | null;
  metadata: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface UsageRecordsTable {
  id: Generated<string>;
  project_id: string;
  mode: Mode;
  ref_id: string;
  provider: ProviderName;
  /** The stored provider key (`provider_keys.id`) that paid for these calls; null when BYO answered before choosing one, or for rows older than the column. */
  key_id: string | null;
  model: string | null;
  status: number;
  /** Sums over the roll-up's calls, hence `bigint`. */
  latency_ms: BigintSum;
  input_tokens: NullableBigintSum;
  output_tokens: NullableBigintSum;
  total_tokens: NullableBigintSum;
  /** USD for the row's calls (numeric: pg reads it as a string); null when their model is unpriced, and on rows older than the column. */
  cost_usd: ColumnType<string | number | null, number | null | undefined, number | null>;
  /** Calls rolled up in this row (same project, mode, refId, provider, model, status and UTC minute); latency and tokens are sums. */
  requests: Generated<number>;
  created_at: Timestamp;
}

/** A project's own price for a provider's model id, USD per million tokens (pricing/overrides.ts). */
export interface PriceOverridesTable {
  project_id: string;
  mode: Mode;
  provider: ProviderName;
  model: string;
  input: number;
  output: number;
  cached_input: number | null;
  cache_write: number | null;
  updated_at: Timestamp;
}

/** A customer's limits (`ref_id`), or the project default (`ref_id` '*'), as a JSON array (limits/). */
export interface SpendLimitsTable {
  project_id: string;
  mode: Mode;
  ref_id: string;
  limits: string;
  updated_at: Timestamp;
}

/** What one limit counter has used in one window (limits/counters-pg.ts). */
export interface LimitCountersTable {
  project_id: string;
  mode: Mode;
  key: string;
  window_start: Timestamp;
  window_end: Timestamp;
  used: number;
  warned_at: NullableTimestamp;
  refused_at: NullableTimestamp;
}

export interface IdempotencyKeysTable {
  project_id: string;
  mode: Mode;
  key: string;
  operation: string;
  request_hash: string;
  /** The stored response; null while `in_progress`. */
  response: ColumnType<unknown, string | null | undefined, string | null>;
  /** `in_progress` while the first request runs (a claim), `completed` once its response is stored. */
  status: Generated<'in_progress' | 'completed'>;
  /** The request holding an `in_progress` claim; null once completed. */
  claim_id: string | null;
  /** The key of `request_hash`, sealed by the vault (kind IDEMPOTENCY_HASH_KIND); null on rows written before it existed. */
  hash_key_ciphertext: Buffer | null;
  hash_key_wrapped: Buffer | null;
  hash_master_key_id: string | null;
  /** When the claim was taken, then when the response was stored. */
  created_at: Timestamp;
}

/** Usage per project, mode, UTC day, provider and model, kept by a trigger on usage_records (migration 20261208_0410). */
export interface UsageDailyTable {
  project_id: string;
  mode: Mode;
  day: ColumnType<string, string, string>;
  provider: ProviderName;
  /** '' when the provider reported no model. */
  model: string;
  requests: BigintSum;
  errors: BigintSum;
  input_tokens: BigintSum;
  output_tokens: BigintSum;
  total_tokens: BigintSum;
  latency_ms: BigintSum;
  cost_usd: ColumnType<string | number | null, number | null, number | null>;
}

/** Each customer's first and last proxied call, kept by the same trigger. */
export interface UsageCustomersTable {
  project_id: string;
  mode: Mode;
  ref_id: string;
  first_used_at: Timestamp;
  last_used_at: Timestamp;
}

/** How many customers had their last call on each UTC day (migration 20261208_0410): active since D = a sum. */
export interface UsageActiveDaysTable {
  project_id: string;
  mode: Mode;
  day: ColumnType<string, string, string>;
  customers: BigintSum;
}

/** Each customer's number of active keys, kept by a trigger on provider_keys (migration 20261208_0420). */
export interface CustomerKeysTable {
  project_id: string;
  mode: Mode;
  ref_id: string;
  active: number;
}

/** Keys by status and connected customers per project and mode, in 8 shards to sum (migration 20261208_0420). */
export interface ProviderKeyCountsTable {
  project_id: string;
  mode: Mode;
  shard: number;
  active: BigintSum;
  disabled: BigintSum;
  revoked: BigintSum;
  customers: BigintSum;
}

/** An operator's dashboard session (migration 20261208_0400): only the hash of its cookie token is stored. */
export interface DashboardSessionsTable {
  id: string;
  token_hash: string;
  principal: 'admin' | 'key';
  /** The secret key that signed in (null for the admin token): its revocation ends the session. */
  api_key_id: string | null;
  /** Hash of the admin token that signed in: a changed BYO_ADMIN_TOKEN ends admin sessions. */
  admin_hash: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

/**
 * A connect or sign-in rate-limit counter on PostgreSQL without Redis (migration 20261209_0100),
 * written only by rate-limiter-flexible: `key` is `<limit>:<id or address>`, `expire` the end of
 * its window in epoch milliseconds.
 */
export interface RateLimitsTable {
  key: string;
  points: number;
  expire: string | null;
}

export interface Database {
  projects: ProjectsTable;
  api_keys: ApiKeysTable;
  provider_keys: ProviderKeysTable;
  connect_tokens: ConnectTokensTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  audit_log: AuditLogTable;
  usage_records: UsageRecordsTable;
  idempotency_keys: IdempotencyKeysTable;
  price_overrides: PriceOverridesTable;
  spend_limits: SpendLimitsTable;
  limit_counters: LimitCountersTable;
  dashboard_sessions: DashboardSessionsTable;
  usage_daily: UsageDailyTable;
  usage_customers: UsageCustomersTable;
  usage_active_days: UsageActiveDaysTable;
  customer_keys: CustomerKeysTable;
  provider_key_counts: ProviderKeyCountsTable;
  rate_limits: RateLimitsTable;
}

export type Project = Selectable<ProjectsTable>;
export type NewProject = Insertable<ProjectsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type ProviderKeyRow = Selectable<ProviderKeysTable>;
export type ProviderKeyUpdate = Updateable<ProviderKeysTable>;
export type EventRow = Selectable<EventsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
