import { createPrivateKey, type KeyObject } from 'node:crypto';
import { BYOError } from '../../errors.js';
import { providerKeyHint } from '../key-hint.js';
import type { KeySettings, PrepareContext } from '../types.js';

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** Vertex AI locations: `us-central1`, `europe-west4`, `global`. */
const LOCATION = /^(?:global|[a-z]+(?:-[a-z]+)*\d{1,2})$/;
/** Google Cloud project ids: 6-30 characters, lower-case letters, digits and hyphens, starting with a letter. */
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

export interface ServiceAccount {
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string | null;
  tokenUri: string;
  projectId: string | null;
  location: string;
}

function bad(field: string, message: string): BYOError {
  return new BYOError('invalid_credential', message, { issues: [{ path: field, message }] });
}

function str(json: Record<string, unknown>, name: string): string {
  const v = json[name];
  if (typeof v !== 'string' || !v)
    throw bad(
      'providerKey',
      `providerKey is not a Google service-account key: "${name}" is missing. Paste the whole JSON key file of the service account.`,
    );
  return v;
}

/** The service-account key file, checked field by field (it comes from a stranger). */
function readKeyFile(key: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(key);
  } catch {
    throw bad('providerKey', 'providerKey must be a Google service-account key: the whole JSON key file, as a string (this is not JSON).');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw bad('providerKey', 'providerKey must be a JSON object (a service-account key file).');
  const file = json as Record<string, unknown>;
  if (file.type !== 'service_account')
    throw bad(
      'providerKey',
      `providerKey is not a service-account key: its "type" is ${JSON.stringify(file.type ?? null)}, not "service_account".`,
    );
  return file;
}

function privateKeyOf(file: Record<string, unknown>): KeyObject {
  const pem = str(file, 'private_key');
  let k: KeyObject;
  try {
    k = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw bad('providerKey', 'The service-account key\'s "private_key" is not a PEM private key that can be read.');
  }
  if (k.asymmetricKeyType !== 'rsa') throw bad('providerKey', 'The service-account key\'s "private_key" must be an RSA key.');
  return k;
}

/**
 * Checks a connect's Vertex credential: a service-account key file, a location, and a project
 * (default: the file's `project_id`). The file's `token_uri` is where BYO will send a signed
 * assertion: anything but Google's token endpoint is refused unless the operator allowed its
 * host (BYO_ALLOWED_UPSTREAM_HOSTS), as a stranger's file could aim BYO at any address.
 */
export function prepareVertex(key: string, settings: KeySettings, ctx: PrepareContext): { settings: KeySettings; hint: string } {
  const { location, projectId } = settings;
  if (!location || !LOCATION.test(location))
    throw bad('providerConfig.location', 'providerConfig.location must be a Vertex AI location, like us-central1, europe-west4 or global.');
  if (projectId !== undefined && !PROJECT_ID.test(projectId))
    throw bad(
      'providerConfig.projectId',
      'providerConfig.projectId must be a Google Cloud project id (6-30 lower-case letters, digits and hyphens).',
    );
  if (ctx.sandboxKey) return { settings: projectId ? { location, projectId } : { location }, hint: providerKeyHint(key) };
  const file = readKeyFile(key);
  const email = str(file, 'client_email');
  privateKeyOf(file);
  const tokenUri = typeof file.token_uri === 'string' && file.token_uri ? file.token_uri : GOOGLE_TOKEN_URI;
  checkTokenUri(tokenUri, ctx);
  const project = projectId ?? (typeof file.project_id === 'string' ? file.project_id : undefined);
  if (!project || !PROJECT_ID.test(project))
    throw bad('providerConfig.projectId', 'The key file names no usable "project_id": set providerConfig.projectId.');
  const id = typeof file.private_key_id === 'string' ? file.private_key_id : '';
  // Which service account and which of its keys: a person recognises it, nobody can use it.
  return { settings: { location, projectId: project }, hint: `${email} (...${id.slice(-4)})` };
}

function checkTokenUri(raw: string, ctx: PrepareContext): void {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad('providerKey', 'The service-account key\'s "token_uri" is not a URL.');
  }
  if (raw === GOOGLE_TOKEN_URI) return;
  if (
    !ctx.hostAllowed(u.hostname, u.port || (u.protocol === 'https:' ? '443' : '80')) ||
    (u.protocol !== 'https:' && u.protocol !== 'http:')
  )
    throw bad(
      'providerKey',
      `The service-account key's "token_uri" must be ${GOOGLE_TOKEN_URI} (${u.host} is not allowed; an operator can allow a host with BYO_ALLOWED_UPSTREAM_HOSTS).`,
    );
}

export function parseVertex(key: string, settings: KeySettings): ServiceAccount {
  const file = readKeyFile(key);
  return {
    clientEmail: str(file, 'client_email'),
    privateKey: privateKeyOf(file),
    privateKeyId: typeof file.private_key_id === 'string' ? file.private_key_id : null,
    tokenUri: typeof file.token_uri === 'string' && file.token_uri ? file.token_uri : GOOGLE_TOKEN_URI,
    projectId: settings.projectId ?? null,
    location: settings.location ?? 'us-central1',
  };
}
