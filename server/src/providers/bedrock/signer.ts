import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { KeySettings, UpstreamSigner, ValidationProbe } from '../types.js';
import { type BedrockCredential, parseBedrock, prepareBedrock } from './credentials.js';

/** A parsed credential with its signer (which caches the derived signing key per day). */
type Signed = BedrockCredential & { signer: SignatureV4 | null };

/** Error types AWS gives when the credential itself is refused; any other 403 (AccessDeniedException: a model not enabled, a missing IAM permission) is about the request. */
const KEY_REJECTED = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
]);

/** The `x-amzn-errortype` of an AWS error answer, without its `:http://...` suffix. */
export function awsErrorType(headers: Readonly<Record<string, string | string[] | undefined>>): string | null {
  const raw = headers['x-amzn-errortype'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  return v ? (v.split(':')[0] as string) : null;
}

/** Whether a Bedrock answer says the stored credential was refused (not the request). */
export function bedrockRejectsKey(status: number, headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  if (status === 401) return true;
  if (status !== 403) return false;
  const type = awsErrorType(headers);
  return type !== null && KEY_REJECTED.has(type);
}

/** `?a=1&b=2` as the signer wants it: decoded names and values (it encodes them again, as AWS does). */
function queryObject(path: string): { path: string; query: Record<string, string | string[]> } {
  const q = path.indexOf('?');
  if (q === -1) return { path, query: {} };
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(path.slice(q + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { path: path.slice(0, q), query };
}

/**
 * Amazon Bedrock: each call is signed with AWS Signature V4 (service `bedrock`, the key's
 * region) by `@smithy/signature-v4`, the AWS SDK's own signer, over the exact path, query,
 * headers and body sent; or, for a Bedrock API key, sent as `Authorization: Bearer`.
 */
export const bedrockSigner: UpstreamSigner<Signed> = {
  needsBody: true,
  prepare: prepareBedrock,
  parse(key: string, settings: KeySettings): Signed {
    const cred = parseBedrock(key, settings);
    const signer =
      cred.kind === 'sigv4'
        ? new SignatureV4({
            credentials: { accessKeyId: cred.accessKeyId, secretAccessKey: cred.secretAccessKey },
            region: cred.region,
            service: 'bedrock',
            sha256: Hash.bind(null, 'sha256'),
          })
        : null;
    return { ...cred, signer };
  },
  base(settings: KeySettings, configured: string | null): string {
    return configured ?? `https://bedrock-runtime.${settings.region ?? 'us-east-1'}.amazonaws.com`;
  },
  async authorize(cred, req) {
    if (cred.kind === 'api-key' || !cred.signer) return { authorization: `Bearer ${(cred as { apiKey: string }).apiKey}` };
    const url = new URL(req.origin);
    const { path, query } = queryObject(req.path);
    const signed = await cred.signer.sign({
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path,
      query,
      headers: { ...req.headers, host: url.host },
      body: req.body ?? '',
    });
    const out: Record<string, string> = {};
    for (const name of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'host'])
      if (signed.headers[name] !== undefined) out[name] = signed.headers[name] as string;
    return out;
  },
  // ListAsyncInvokes on the runtime host: signed like every call, bills nothing. An
  // AccessDeniedException means AWS accepted the credential and the IAM policy lacks this action.
  probe: (): ValidationProbe => ({ method: 'GET', path: '/async-invoke?maxResults=1' }),
  classifyProbe(status, headers) {
    if (status >= 200 && status < 300) return 'valid';
    if (status === 403 && awsErrorType(headers) === 'AccessDeniedException') return 'valid';
    if (bedrockRejectsKey(status, headers)) return 'invalid';
    return 'unknown';
  },
};
