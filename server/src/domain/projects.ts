import type { Kysely } from 'kysely';
import { randomId } from '../auth/api-key-format.js';
import type { Database, Project } from '../db/schema.js';
import { BYOError } from '../errors.js';
import { createApiKey, type CreatedApiKey } from './api-keys.js';

/** Well-known public OpenAI-compatible services a publishable key may point a base URL at. */
export const DEFAULT_ALLOWED_BASE_URL_HOSTS = [
  'openrouter.ai',
  'api.together.xyz',
  'api.groq.com',
  'api.fireworks.ai',
  'api.deepseek.com',
  'api.mistral.ai',
  'api.perplexity.ai',
  'api.x.ai',
  'api.cerebras.ai',
  'api.deepinfra.com',
];

export interface ProjectSettings {
  name?: string | undefined;
  allowedOrigins?: string[] | undefined;
  allowedBaseUrlHosts?: string[] | undefined;
  validateOnConnect?: boolean | undefined;
  publishableConnect?: 'open' | 'token_required' | undefined;
}

export function projectView(p: Project) {
  return {
    id: p.id,
    name: p.name,
    allowedOrigins: p.allowed_origins,
    allowedBaseUrlHosts: p.allowed_base_url_hosts,
    validateOnConnect: p.validate_on_connect,
    publishableConnect: p.publishable_connect,
    createdAt: p.created_at.toISOString(),
    updatedAt: p.updated_at.toISOString(),
  };
}

/** Creates a project with a pk and an sk in each mode; the keys are returned once. */
export async function createProject(
  db: Kysely<Database>,
  input: ProjectSettings & { name: string },
): Promise<{ project: Project; keys: CreatedApiKey[] }> {
  return db.transaction().execute(async (trx) => {
    const project = await trx
      .insertInto('projects')
      .values({
        id: randomId('proj', 12),
        name: input.name,
        allowed_origins: JSON.stringify(input.allowedOrigins ?? []),
        allowed_base_url_hosts: JSON.stringify(input.allowedBaseUrlHosts ?? DEFAULT_ALLOWED_BASE_URL_HOSTS),
        validate_on_connect: input.validateOnConnect ?? false,
        publishable_connect: input.publishableConnect ?? 'open',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const keys: CreatedApiKey[] = [];
    for (const mode of ['test', 'live'] as const) {
      for (const kind of ['pk', 'sk'] as const) keys.push(await createApiKey(trx, { projectId: project.id, kind, mode }));
    }
    return { project, keys };
  });
}

export async function getProject(db: Kysely<Database>, id: string): Promise<Project> {
  const p = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  if (!p) throw new BYOError('project_not_found', `No project ${id}.`);
  return p;
}

export async function listProjects(db: Kysely<Database>): Promise<Project[]> {
  return db.selectFrom('projects').selectAll().orderBy('created_at', 'asc').execute();
}

export async function updateProject(db: Kysely<Database>, id: string, s: ProjectSettings): Promise<Project> {
  const values: Record<string, unknown> = { updated_at: new Date() };
  if (s.name !== undefined) values.name = s.name;
  if (s.allowedOrigins !== undefined) values.allowed_origins = JSON.stringify(s.allowedOrigins);
  if (s.allowedBaseUrlHosts !== undefined) values.allowed_base_url_hosts = JSON.stringify(s.allowedBaseUrlHosts);
  if (s.validateOnConnect !== undefined) values.validate_on_connect = s.validateOnConnect;
  if (s.publishableConnect !== undefined) values.publishable_connect = s.publishableConnect;
  const p = await db.updateTable('projects').set(values).where('id', '=', id).returningAll().executeTakeFirst();
  if (!p) throw new BYOError('project_not_found', `No project ${id}.`);
  return p;
}
