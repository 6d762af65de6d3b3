import { z } from 'zod';
import { AuditEntrySchema, ListAuditInputSchema, RollApiKeyInputSchema } from '../../schemas/admin.js';
import { ModeSchema } from '../../schemas/common.js';
import {
  ApiKeyIdSchema,
  ApiKeySchema,
  CreatedApiKeySchema,
  CreateProjectInputSchema,
  CreateProjectOutputSchema,
  ProjectIdSchema,
  ProjectSchema,
  ProjectSettingsSchema,
} from '../../schemas/projects.js';
import { apiKeyView, createApiKey, listApiKeys, revokeApiKey, rollApiKey } from '../../domain/api-keys.js';
import { audit } from '../../domain/audit.js';
import { createProject, getProject, listProjects, projectView, updateProject } from '../../domain/projects.js';
import { adminProcedure, router } from '../init.js';

const PROJECT_TAGS = ['Admin: projects'];
const API_KEY_TAGS = ['Admin: API keys'];

export const projectsRouter = router({
  create: adminProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/projects',
        tags: PROJECT_TAGS,
        summary: 'Create a project; its four API keys are returned once',
      },
    })
    .input(CreateProjectInputSchema)
    .output(CreateProjectOutputSchema)
    .mutation(async ({ ctx, input }) => {
      const { project, keys } = await createProject(ctx.services.db, input);
      await audit(ctx.services.db, ctx.actor, { projectId: project.id, mode: null, action: 'project.created', target: project.id });
      return { project: projectView(project), keys: keys.map((k) => ({ ...apiKeyView(k.row), key: k.key })) };
    }),
  list: adminProcedure
    .meta({ openapi: { method: 'GET', path: '/admin/projects', tags: PROJECT_TAGS, summary: 'List projects' } })
    .input(z.strictObject({}).optional())
    .output(z.object({ data: z.array(ProjectSchema) }))
    .query(async ({ ctx }) => ({ data: (await listProjects(ctx.services.db)).map(projectView) })),
  get: adminProcedure
    .meta({ openapi: { method: 'GET', path: '/admin/projects/{id}', tags: PROJECT_TAGS, summary: 'Get a project' } })
    .input(z.strictObject({ id: ProjectIdSchema }))
    .output(ProjectSchema)
    .query(async ({ ctx, input }) => projectView(await getProject(ctx.services.db, input.id))),
  update: adminProcedure
    .meta({ openapi: { method: 'PATCH', path: '/admin/projects/{id}', tags: PROJECT_TAGS, summary: 'Update project settings' } })
    .input(ProjectSettingsSchema.extend({ id: ProjectIdSchema }))
    .output(ProjectSchema)
    .mutation(async ({ ctx, input }) => {
      const { id, ...settings } = input;
      const p = await updateProject(ctx.services.db, id, settings);
      await ctx.services.auth.invalidate(`project:${id}`);
      await audit(ctx.services.db, ctx.actor, {
        projectId: id,
        mode: null,
        action: 'project.updated',
        target: id,
        metadata: { fields: Object.keys(settings) },
      });
      return projectView(p);
    }),
});

export const apiKeysRouter = router({
  list: adminProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/projects/{projectId}/api-keys',
        tags: API_KEY_TAGS,
        summary: "List a project's API keys (hints only)",
      },
    })
    .input(z.strictObject({ projectId: ProjectIdSchema }))
    .output(z.object({ data: z.array(ApiKeySchema) }))
    .query(async ({ ctx, input }) => {
      await getProject(ctx.services.db, input.projectId);
      return { data: (await listApiKeys(ctx.services.db, input.projectId)).map(apiKeyView) };
    }),
  create: adminProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/projects/{projectId}/api-keys',
        tags: API_KEY_TAGS,
        summary: 'Create an API key (shown once)',
      },
    })
    .input(z.strictObject({ projectId: ProjectIdSchema, kind: z.enum(['pk', 'sk']), mode: ModeSchema }))
    .output(CreatedApiKeySchema)
    .mutation(async ({ ctx, input }) => {
      await getProject(ctx.services.db, input.projectId);
      const k = await createApiKey(ctx.services.db, input);
      await audit(ctx.services.db, ctx.actor, {
        projectId: input.projectId,
        mode: input.mode,
        action: 'api_key.created',
        target: k.row.id,
      });
      return { ...apiKeyView(k.row), key: k.key };
    }),
  roll: adminProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/api-keys/{id}/roll',
        tags: API_KEY_TAGS,
        summary: 'Roll a key: a new key now, the old one expires later',
      },
    })
    .input(RollApiKeyInputSchema)
    .output(z.object({ key: CreatedApiKeySchema, previous: ApiKeySchema }))
    .mutation(async ({ ctx, input }) => {
      const { created, old } = await rollApiKey(ctx.services.db, input.id, input.expiresInSeconds * 1000);
      await ctx.services.auth.invalidate(old.key_hash);
      await audit(ctx.services.db, ctx.actor, {
        projectId: old.project_id,
        mode: old.mode,
        action: 'api_key.rolled',
        target: old.id,
        metadata: { newKeyId: created.row.id, expiresInSeconds: input.expiresInSeconds },
      });
      return { key: { ...apiKeyView(created.row), key: created.key }, previous: apiKeyView(old) };
    }),
  revoke: adminProcedure
    .meta({ openapi: { method: 'POST', path: '/admin/api-keys/{id}/revoke', tags: API_KEY_TAGS, summary: 'Revoke an API key at once' } })
    .input(z.strictObject({ id: ApiKeyIdSchema }))
    .output(ApiKeySchema)
    .mutation(async ({ ctx, input }) => {
      const row = await revokeApiKey(ctx.services.db, input.id);
      await ctx.services.auth.invalidate(row.key_hash);
      await audit(ctx.services.db, ctx.actor, { projectId: row.project_id, mode: row.mode, action: 'api_key.revoked', target: row.id });
      return apiKeyView(row);
    }),
});

export const auditRouter = router({
  list: adminProcedure
    .meta({ openapi: { method: 'GET', path: '/admin/audit', tags: ['Admin: audit'], summary: 'Audit log, newest first' } })
    .input(ListAuditInputSchema)
    .output(z.object({ data: z.array(AuditEntrySchema) }))
    .query(async ({ ctx, input }) => {
      let q = ctx.services.db.selectFrom('audit_log').selectAll();
      if (input.projectId) q = q.where('project_id', '=', input.projectId);
      if (input.actor) q = q.where('actor', '=', input.actor);
      if (input.action) q = q.where('action', '=', input.action);
      if (input.since) q = q.where('created_at', '>=', new Date(input.since));
      const rows = await q.orderBy('id', 'desc').limit(input.limit).execute();
      return {
        data: rows.map((r) => ({
          id: String(r.id),
          projectId: r.project_id,
          mode: r.mode,
          actor: r.actor,
          action: r.action,
          target: r.target,
          ip: r.ip,
          userAgent: r.user_agent,
          metadata: r.metadata,
          createdAt: r.created_at.toISOString(),
        })),
      };
    }),
});
