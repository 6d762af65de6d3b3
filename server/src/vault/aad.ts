/**
 * What each kind of sealed record is bound to (the vault's associated data). The code that seals,
 * opens and re-wraps a record (key connects, webhook signing, master-key rotation) imports the same
 * function, so a record sealed by one can be opened by the others.
 */

export const PROVIDER_KEY_KIND = 'provider_key';
/** A provider key row: bound to its project, mode, provider, refId and row id. */
export const aadFor = (r: { project_id: string; mode: string; provider: string; ref_id: string; id: string }) =>
  [r.project_id, r.mode, r.provider, r.ref_id, r.id] as const;

export const WEBHOOK_SECRET_KIND = 'webhook_secret';
/** A webhook endpoint's signing secret: bound to its project, mode and endpoint id. */
export const secretContext = (r: { project_id: string; mode: string; id: string }) => [r.project_id, r.mode, r.id] as const;
