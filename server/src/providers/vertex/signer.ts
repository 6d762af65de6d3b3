import { BYOError } from '../../errors.js';
import type { KeySettings, UpstreamSigner, ValidationProbe } from '../types.js';
import { parseVertex, prepareVertex, type ServiceAccount } from './service-account.js';

type Credential = ServiceAccount & { id: string };

/** `/v1/projects/{project}/locations/{location}/...` (and `v1beta1`), as Vertex's SDKs build them. */
const SCOPED_PATH = /^\/v1(?:beta1)?\/projects\/([^/]+)\/locations\/([^/]+)(?:\/|$)/;

/**
 * Google Vertex AI: the stored service-account key is exchanged for an OAuth access token
 * (cached per key until shortly before expiry), sent as `Authorization: Bearer`. Calls go to
 * the key's location; a path naming another project or location is refused by BYO itself,
 * so that a caller's typo never reaches Google as a 403 (which says nothing about the key).
 */
export const vertexSigner: UpstreamSigner<Credential> = {
  needsBody: false,
  prepare: prepareVertex,
  parse: (key, settings, id) => ({ ...parseVertex(key, settings), id }),
  base(settings: KeySettings, configured: string | null): string {
    if (configured) return configured;
    const location = settings.location ?? 'us-central1';
    return location === 'global' ? 'https://aiplatform.googleapis.com' : `https://${location}-aiplatform.googleapis.com`;
  },
  checkPath(path: string, settings: KeySettings): void {
    const m = SCOPED_PATH.exec(path);
    if (!m)
      throw new BYOError(
        'path_mismatch',
        "Vertex AI calls through BYO name the key's project and location: /v1/projects/{projectId}/locations/{location}/... (the base URL of your SDK is http(s)://<byo>/v1/proxy/vertex).",
      );
    const project = decodeURIComponent(m[1] as string);
    const location = decodeURIComponent(m[2] as string);
    if (settings.projectId && project !== settings.projectId)
      throw new BYOError(
        'path_mismatch',
        `This customer's Vertex key is for project "${settings.projectId}", not "${project}": set the project in your client to it.`,
      );
    if (location !== settings.location)
      throw new BYOError(
        'path_mismatch',
        `This customer's Vertex key is for location "${settings.location}", not "${location}": set the location (region) in your client to it.`,
      );
  },
  async authorize(cred, _req, deps) {
    return { authorization: `Bearer ${await deps.tokens.get(cred.id, cred, deps)}` };
  },
  forget(cred, deps) {
    deps.tokens.forget(cred.id);
  },
  // The project's model registry, one entry: free, and it needs a token Vertex accepts for the project.
  probe: (settings): ValidationProbe => ({
    method: 'GET',
    path: `/v1/projects/${settings.projectId}/locations/${settings.location}/models?pageSize=1`,
  }),
  classifyProbe(status) {
    if (status >= 200 && status < 300) return 'valid';
    // The token was minted, so the key is Google's; 401 here means it was revoked since.
    if (status === 401) return 'invalid';
    // 403 (API not enabled, no Vertex role, a project the account is not in) is about the
    // project's set-up, not the key: reported, never a reason to disable it.
    return 'unknown';
  },
};
