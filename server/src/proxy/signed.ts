import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { readBody } from '../net/request-body.js';
import type { KeySettings, UpstreamSigner } from '../providers/types.js';
import { TokenRefusedError } from '../providers/vertex/token.js';
import { upload, wholeBody } from './body.js';
import type { Call } from './call.js';
import { UpstreamExchange } from './exchange.js';
import type { ProxyHandler } from './handler.js';
import { forwardedHeaders } from './headers.js';
import { credentialId, type UsableKey } from './provider-key.js';

/** Read whole before signing (SigV4 hashes the body): Bedrock's own request limit is 25 MB with base64 documents and images. */
const SIGNED_BODY_LIMIT = 32 * 1024 * 1024;
export const NO_SETTINGS: KeySettings = Object.freeze({});

/**
 * Sends a call of a provider whose credential is signed or exchanged per call (Bedrock's SigV4,
 * Vertex's minted token). A token endpoint refusing the stored key disables it, as a provider's
 * 401 would.
 */
export function sendSigned(proxy: ProxyHandler, call: Call, stored: UsableKey, signer: UpstreamSigner): void {
  dispatchSigned(proxy, call, stored, signer).catch((err: unknown) => {
    if (err instanceof TokenRefusedError && call.ref && call.used) proxy.accounting.disable(call.ref, call.used, 401);
    proxy.fail(call, err);
  });
}

/**
 * To the key's region's or location's host, with the headers its signer makes over exactly what
 * is sent. SigV4 hashes the body, so it is read whole first.
 */
async function dispatchSigned(proxy: ProxyHandler, call: Call, stored: UsableKey, signer: UpstreamSigner): Promise<void> {
  const { req, subPath, query } = call;
  const { services } = proxy.deps;
  const settings = stored.settings ?? NO_SETTINGS;
  const base = proxy.upstreamBase(signer.base(settings, services.providers[call.provider].configuredBase));
  const method = req.method ?? 'GET';
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  const hasBody = method !== 'GET' && method !== 'HEAD' && (te !== undefined || (cl !== undefined && cl !== '0'));
  const path = query ? `${base.path}${subPath}?${query}` : `${base.path}${subPath}`;
  const whole =
    hasBody && signer.needsBody ? (call.ticket?.body ?? (await readBody(req, SIGNED_BODY_LIMIT, 'Signed requests accept'))) : null;
  stored.credential ??= signer.parse(stored.key, settings, credentialId(stored));
  const headers = forwardedHeaders(req.rawHeaders, req.headers.connection);
  Object.assign(
    headers,
    await signer.authorize(stored.credential, { method, origin: base.origin, path, headers, body: whole }, services.signing),
  );
  if (call.clientGone) return proxy.finish(call);
  const exchange = new UpstreamExchange(proxy, call, false);
  call.dispatchedAt = performance.now();
  services.agents.trusted.dispatch(
    {
      origin: base.origin,
      path,
      method: method as Dispatcher.HttpMethod,
      headers,
      body: whole ?? (hasBody ? (call.ticket?.body ?? wholeBody(req, te, cl) ?? upload(req)) : null),
    },
    exchange,
  );
}
