// Moved to providers/wire/ (a provider owns its error shape; the sandbox uses it too). Kept so
// existing imports resolve; new code imports providers/wire/error-body.ts.
export { providerErrorBody, type ShapedError } from '../providers/wire/error-body.js';
