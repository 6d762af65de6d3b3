import { openaiSandbox } from '../../sandbox/openai.js';
import { asObject, json, type SandboxOptions, type SandboxRequest, type SandboxResponse } from '../../sandbox/types.js';

/**
 * Azure OpenAI's paths, relative to the resource endpoint, answered in OpenAI's shapes (which
 * Azure's are): `/openai/deployments/{deployment}/...?api-version=` (the deployment names the
 * model), the other `/openai/...?api-version=` paths (`/openai/responses`, `/openai/models`)
 * and the v1 API `/openai/v1/...`, which needs no api-version.
 */
export function azureSandbox(req: SandboxRequest, opts: SandboxOptions = {}): SandboxResponse {
  const path = req.path.replace(/\/+$/, '');
  if (path.startsWith('/openai/v1/')) return openaiSandbox({ ...req, path: path.slice('/openai/v1'.length) }, opts);
  if (!path.startsWith('/openai/') || !req.query.get('api-version')) return azureError(404, '404', 'Resource not found');
  const deployment = /^\/openai\/deployments\/([^/]+)(\/.*)$/.exec(path);
  if (deployment) {
    // Azure answers with the deployment's model, whatever the body names.
    const body = { ...asObject(req.body), model: decodeURIComponent(deployment[1] as string) };
    return openaiSandbox({ ...req, path: deployment[2] as string, body }, opts);
  }
  return openaiSandbox({ ...req, path: path.slice('/openai'.length) }, opts);
}

/** Azure's own 401, for a key the resource does not accept. */
export function azureInvalidKey(): SandboxResponse {
  return azureError(
    401,
    '401',
    'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  );
}

function azureError(status: number, code: string, message: string): SandboxResponse {
  return json(status, { error: { code, message } });
}
