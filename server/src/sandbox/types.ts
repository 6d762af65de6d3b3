import type { ReplyOptions } from './content.js';

/** A request as the sandbox sees it: the path is relative to the provider's SDK base URL. */
export interface SandboxRequest {
  method: string;
  /** e.g. `/chat/completions` (OpenAI), `/v1/messages` (Anthropic), `/v1beta/models/x:generateContent` (Google). */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
}

/** Either a JSON body or a list of already framed events (server-sent events, or AWS event-stream frames). */
export interface SandboxResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
  events?: (string | Uint8Array)[];
}

export type SandboxOptions = ReplyOptions;

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;
export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function sse(events: string[], headers: Record<string, string> = {}): SandboxResponse {
  return { status: 200, headers: { ...SSE_HEADERS, ...headers }, events };
}

export function asObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
