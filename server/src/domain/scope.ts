import type { Mode, Project } from '../db/schema.js';

/** The project and mode a request acts in (from its API key). */
export interface Scope {
  project: Project;
  mode: Mode;
}
