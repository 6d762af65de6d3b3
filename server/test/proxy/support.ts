import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import type { ProviderName } from '../../src/db/schema.js';
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from '../helpers/mock-upstream.js';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

export interface ProxyEnv {
  server: TestServer;
  mock: MockUpstream;
  project: TestProject;
  /** Connects a provider key for `refId` with the project's secret key (live mode unless `test`). */
  connect(provider: ProviderName, refId: string, providerKey: string, opts?: { test?: boolean; baseUrl?: string }): Promise<void>;
  proxyUrl(provider: ProviderName): string;
  openai(refId: string, opts?: { key?: string; maxRetries?: number }): OpenAI;
  anthropic(refId: string, opts?: { key?: string; maxRetries?: number }): Anthropic;
  google(refId: string, opts?: { key?: string }): GoogleGenAI;
  close(): Promise<void>;
}

/** A BYO server whose provider bases point at a fresh mock upstream, and one project. `env` may depend on the mock. */
export async function startProxyEnv(
  env: Record<string, string> | ((mock: MockUpstream) => Record<string, string>) = {},
  mockOptions: MockUpstreamOptions = {},
): Promise<ProxyEnv> {
  const mock = await startMockUpstream(mockOptions);
  const server = await startTestServer({ ...mock.env, BYO_USAGE_FLUSH_INTERVAL: '50ms', ...(typeof env === 'function' ? env(mock) : env) });
  const project = await server.createProject();
  return proxyEnvFor(server, mock, project, async () => {
    await server.close();
    await mock.close();
  });
}

export function proxyEnvFor(server: TestServer, mock: MockUpstream, project: TestProject, close: () => Promise<void>): ProxyEnv {
  const proxyUrl = (provider: ProviderName) => `${server.url}/v1/proxy/${provider}`;
  return {
    server,
    mock,
    project,
    proxyUrl,
    async connect(provider, refId, providerKey, opts = {}) {
      const res = await server.request('POST', '/v1/keys/connect', {
        key: opts.test ? project.skTest : project.skLive,
        body: { provider, refId, providerKey, ...(opts.baseUrl ? { providerConfig: { baseUrl: opts.baseUrl } } : {}) },
      });
      if (res.status !== 200) throw new Error(`connect failed: ${res.status} ${res.text}`);
    },
    openai: (refId, opts = {}) =>
      new OpenAI({
        apiKey: opts.key ?? project.skLive,
        baseURL: proxyUrl('openai'),
        defaultHeaders: { 'X-BYO-Ref-Id': refId },
        maxRetries: opts.maxRetries ?? 0,
      }),
    anthropic: (refId, opts = {}) =>
      new Anthropic({
        apiKey: opts.key ?? project.skLive,
        baseURL: proxyUrl('anthropic'),
        defaultHeaders: { 'X-BYO-Ref-Id': refId },
        maxRetries: opts.maxRetries ?? 0,
      }),
    google: (refId, opts = {}) =>
      new GoogleGenAI({
        apiKey: opts.key ?? project.skLive,
        httpOptions: { baseUrl: proxyUrl('google'), headers: { 'X-BYO-Ref-Id': refId } },
      }),
    close,
  };
}

/** Every header value the mock received, flattened, to scan for leaked credentials. */
export function allHeaderValues(headers: Record<string, string | string[] | undefined>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : (v ?? '')}`)
    .join('\n');
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000, stepMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`eventually: timed out${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
