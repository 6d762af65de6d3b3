// Moved to domain/server-origin.ts (used by the connect route and the embed page alike); kept
// so imports in work under way still resolve. Import from domain/server-origin.ts.
export { isServerOrigin, serverOrigins, trackServerAddress } from '../domain/server-origin.js';
