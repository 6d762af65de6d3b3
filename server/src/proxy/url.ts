/** The request target of a proxied call. */

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** The request target in origin form (`/path?query`). */
export function originForm(target: string): string {
  if (target.charCodeAt(0) === 47 /* / */) return target;
  const authority = ABSOLUTE_FORM.exec(target);
  return authority ? target.slice(authority[0].length) || '/' : target;
}
