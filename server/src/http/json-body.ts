import type { FastifyInstance } from 'fastify';
import { BYOError } from '../errors.js';

/** Deeper than this, a JSON body is refused: no BYO input nests beyond a few levels. */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a JSON text, found by one scan that skips string contents. */
export function jsonDepth(text: string, stopAt = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth > max) max = depth;
      if (max > stopAt) return max;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}

/**
 * The JSON body parser for every route outside the proxy (which streams bodies untouched):
 * Fastify's own secure parser (prototype-poisoning keys are refused), after a depth check.
 * Deeply nested bodies otherwise reach recursive code (the REST adapter re-serialises the
 * body) and end as a stack overflow, a 500.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(new BYOError('bad_request', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`), undefined);
      return;
    }
    parse(request, text, done);
  });
}
