import type { operations } from '../generated/openapi.js';

/** Type helpers over the generated OpenAPI types (inlined into the published .d.ts). */
export type JSONBody<K extends keyof operations> = operations[K] extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : never;
export type JSONResponse<K extends keyof operations> = operations[K] extends {
  responses: { 200: { content: { 'application/json': infer R } } };
}
  ? R
  : never;
export type QueryParams<K extends keyof operations> = NonNullable<operations[K]['parameters']['query']>;
