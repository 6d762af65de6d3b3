/**
 * The one module of the CLI that reads `process.env`. The BYO_* variables override the
 * stored profile, so scripts and CI can run the CLI without `byo login`.
 */
export interface CliEnv {
  url: string | undefined;
  adminToken: string | undefined;
  secretKey: string | undefined;
  profile: string | undefined;
  noColor: boolean;
  forceColor: boolean;
}

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

export function readEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return {
    url: nonEmpty(env.BYO_URL),
    adminToken: nonEmpty(env.BYO_ADMIN_TOKEN),
    secretKey: nonEmpty(env.BYO_SECRET_KEY),
    profile: nonEmpty(env.BYO_PROFILE),
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== '',
    forceColor: env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0',
  };
}

/** Environment for a spawned `byo-server`: everything the operator set, plus overrides. */
export function childEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) out[k] = v;
  return out;
}
