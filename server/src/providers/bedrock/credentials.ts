import { BYOError } from '../../errors.js';
import { providerKeyHint } from '../key-hint.js';
import type { KeySettings, PrepareContext } from '../types.js';

/** AWS region names: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `us-isob-east-1`. */
export const AWS_REGION = /^[a-z]{2}(?:-(?:gov|iso[a-z]?))?-[a-z]+-\d{1,2}$/;
/** Long-term access key ids (`AKIA...`); `ASIA...` ids are temporary and need a session token. */
const ACCESS_KEY_ID = /^A[A-Z0-9]{15,127}$/;
/** A secret access key: 40 characters of base64 today; AWS documents no fixed length, so up to 128. */
const SECRET_ACCESS_KEY = /^[A-Za-z0-9/+=]{16,128}$/;

/** How the stored key is sent: signed with SigV4, or as a Bedrock API key (`Authorization: Bearer`). */
export type BedrockCredential =
  | { kind: 'sigv4'; region: string; accessKeyId: string; secretAccessKey: string }
  | { kind: 'api-key'; region: string; apiKey: string };

function bad(field: string, message: string): BYOError {
  return new BYOError('invalid_credential', message, { issues: [{ path: field, message }] });
}

/** Checks a connect's Bedrock credential; the stored settings are `region` and, for SigV4, `accessKeyId`. */
export function prepareBedrock(key: string, settings: KeySettings, ctx: PrepareContext): { settings: KeySettings; hint: string } {
  const { region, accessKeyId } = settings;
  if (!region || !AWS_REGION.test(region))
    throw bad(
      'providerConfig.region',
      'providerConfig.region must be an AWS region name, like us-east-1 (the region of your Bedrock models).',
    );
  if (ctx.sandboxKey) return { settings: accessKeyId ? { region, accessKeyId } : { region }, hint: providerKeyHint(key) };
  if (accessKeyId === undefined) {
    if (/\s/.test(key))
      throw bad(
        'providerKey',
        'providerKey must be a Bedrock API key (no spaces), or a secret access key with providerConfig.accessKeyId.',
      );
    if (ACCESS_KEY_ID.test(key))
      throw bad(
        'providerKey',
        'providerKey looks like an access key id: put it in providerConfig.accessKeyId and the secret access key in providerKey.',
      );
    return { settings: { region }, hint: providerKeyHint(key) };
  }
  if (accessKeyId.startsWith('ASIA'))
    throw bad(
      'providerConfig.accessKeyId',
      'providerConfig.accessKeyId is a temporary (ASIA...) key, which needs a session token BYO does not store: use a long-term access key (AKIA...) or a Bedrock API key.',
    );
  if (!ACCESS_KEY_ID.test(accessKeyId))
    throw bad('providerConfig.accessKeyId', 'providerConfig.accessKeyId must be an AWS access key id, like AKIAIOSFODNN7EXAMPLE.');
  if (!SECRET_ACCESS_KEY.test(key))
    throw bad(
      'providerKey',
      'With providerConfig.accessKeyId, providerKey must be the secret access key that goes with it (40 characters).',
    );
  // The access key id names the credential (not a secret: it is in every signed request's Authorization header).
  return { settings: { region, accessKeyId }, hint: `${accessKeyId.slice(0, 4)}...${accessKeyId.slice(-4)}` };
}

export function parseBedrock(key: string, settings: KeySettings): BedrockCredential {
  const region = settings.region ?? 'us-east-1';
  return settings.accessKeyId
    ? { kind: 'sigv4', region, accessKeyId: settings.accessKeyId, secretAccessKey: key }
    : { kind: 'api-key', region, apiKey: key };
}
