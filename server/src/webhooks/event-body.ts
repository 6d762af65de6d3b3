import type { Mode } from '../db/schema.js';

/** The body every attempt of an event sends: the same bytes each time (receivers dedupe on `id`). */
export function eventBody(e: { id: string; type: string; createdAt: Date; mode: Mode; data: Record<string, unknown> }): string {
  return JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), mode: e.mode, data: e.data });
}
