/**
 * A project's allowed origins for publishable-key connects, shared by the connect route and the
 * hosted connect form (which checks its parent page's origin).
 */

/** Exact match; a test-mode project with no allowed origins accepts any. */
export function originAllowed(allowed: string[], mode: 'live' | 'test', origin: string): boolean {
  // Sandboxed frames and file: pages send "null": it names no one, so it never matches.
  if (origin === 'null') return false;
  return allowed.includes(origin) || openToAnyOrigin(allowed, mode);
}

/** A test-mode project without allowed origins takes connects from anywhere (development). */
export function openToAnyOrigin(allowed: string[], mode: 'live' | 'test'): boolean {
  return mode === 'test' && allowed.length === 0;
}
