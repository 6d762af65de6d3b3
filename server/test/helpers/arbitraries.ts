import fc from 'fast-check';

/** The subset of JSON Schema that the generated OpenAPI document uses. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
}

/** Strings that have broken parsers, databases and log pipelines elsewhere. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202eevil',
  '\u200b\u200d\ufeff',
  '𝕏'.repeat(300),
  '😀'.repeat(1000),
  'Ω≈ç√∫˜µ≤≥÷',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; DROP TABLE provider_keys; --',
  '../../../../etc/passwd',
  '%00',
  '%2e%2e%2f',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style payload, literally
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  '\r\nX-Injected: 1',
  '9'.repeat(400),
  '-0',
  '1e309',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  'sk-byo-test-valid',
  'sk-byo-test-invalid',
  'byo_sk_test_000000000000000000000000000000000000000000000000000',
  'x'.repeat(5000),
  'y'.repeat(70_000),
];

/** URLs whose resolution stays on this machine (literal addresses and localhost) or is refused before any lookup. */
export const NASTY_URLS = [
  'https://127.0.0.1/',
  'http://127.0.0.1:1/v1',
  'https://[::1]/v1',
  'https://[::ffff:169.254.169.254]/',
  'https://169.254.169.254/latest/meta-data/',
  'https://0x7f.1/',
  'https://2130706433/',
  'https://017700000001/',
  'https://100.64.0.1/',
  'https://[fd00:ec2::254]/',
  'https://localhost/',
  'https://localhost./',
  'https://user:pass@127.0.0.1/',
  'https://127.0.0.1/#@169.254.169.254/',
  'file:///etc/passwd',
  'gopher://127.0.0.1:6379/_INFO',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'https://0.0.0.0/',
  'http://[::]/',
];

export const nastyString = fc.constantFrom(...NASTY_STRINGS);

/** Any JSON value of the wrong kind for most fields. */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 0, 1e308, -1e308),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  nastyString,
  fc.constantFrom(...NASTY_URLS),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

function typesOf(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  if (s.properties) return ['object'];
  return [];
}

/** Values that satisfy the schema (as far as this generator understands it). */
export function validArb(s: JsonSchema, name = ''): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts && alts.length > 0) return fc.oneof(...alts.map((a) => validArb(a, name)));
  if (s.allOf && s.allOf.length === 1) return validArb(s.allOf[0] as JsonSchema, name);
  const types = typesOf(s);
  const arbs: fc.Arbitrary<unknown>[] = [];
  for (const t of types) {
    switch (t) {
      case 'string': {
        if (/url/i.test(name)) arbs.push(fc.constantFrom(...NASTY_URLS));
        else if (/origin/i.test(name))
          arbs.push(fc.constantFrom('https://app.example.com', 'http://127.0.0.1:3000', 'null', 'https://a.b:8443'));
        else if (s.pattern) {
          const max = Math.min(s.maxLength ?? 64, 64);
          arbs.push(fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= Math.max(max, 8)));
        } else if (s.format === 'date-time' || /since|At$/.test(name))
          arbs.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
        else arbs.push(fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 32, 32) }));
        break;
      }
      case 'integer':
        arbs.push(fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 1000 }));
        break;
      case 'number':
        arbs.push(fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true }));
        break;
      case 'boolean':
        arbs.push(fc.boolean());
        break;
      case 'null':
        arbs.push(fc.constant(null));
        break;
      case 'array':
        arbs.push(
          fc.array(s.items ? validArb(s.items, name) : fc.jsonValue({ maxDepth: 1 }), {
            minLength: s.minItems ?? 0,
            maxLength: Math.min(s.maxItems ?? 4, 4),
          }),
        );
        break;
      case 'object': {
        const props = s.properties ?? {};
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(props)) model[k] = validArb(v, k);
        arbs.push(fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in props) }));
        break;
      }
    }
  }
  if (arbs.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return arbs.length === 1 ? (arbs[0] as fc.Arbitrary<unknown>) : fc.oneof(...arbs);
}

/**
 * Values near the schema: mostly valid, with some fields of the wrong type, missing required
 * fields, unknown extra fields, or nasty strings. Reaches past the validator into handlers.
 */
export function nearArb(s: JsonSchema, name = ''): fc.Arbitrary<unknown> {
  const types = typesOf(s);
  if (types.includes('object') && s.properties) {
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(s.properties))
      model[k] = fc.oneof(
        { weight: 4, arbitrary: validArb(v, k) },
        { weight: 1, arbitrary: nearArb(v, k) },
        { weight: 1, arbitrary: junkValue },
      );
    const base = fc.record(model, { requiredKeys: [] });
    return fc.oneof(
      { weight: 4, arbitrary: base },
      {
        weight: 1,
        arbitrary: fc
          .tuple(base, fc.constantFrom('extra', '__proto__', 'constructor', 'api_base', 'baseURL', 'id', ''), junkValue)
          .map(([o, k, v]) => ({ ...(o as object), [k]: v })),
      },
      { weight: 1, arbitrary: junkValue },
    );
  }
  if (types.includes('string'))
    return fc.oneof(
      { weight: 3, arbitrary: validArb(s, name) },
      { weight: 2, arbitrary: junkValue },
      // Valid but for one character the database or a parser may choke on.
      {
        weight: 1,
        arbitrary: fc.tuple(validArb(s, name), fc.constantFrom('\u0000', '\ud800', '\u202e', '%00', '\\')).map(([v, c]) => `${v}${c}`),
      },
    );
  return fc.oneof({ weight: 3, arbitrary: validArb(s, name) }, { weight: 2, arbitrary: junkValue });
}

/** Body bytes a broken or hostile client might send with a JSON content type. */
export const malformedBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    'null',
    'true',
    '0',
    '"str"',
    '[]',
    '[1,2,3]',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"a":1,"a":2}',
    '\ufeff{}',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '{"n":1e999999}',
    `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
    `{"big":"${'z'.repeat(80 * 1024)}"}`,
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16le',
  'application/json;;;',
  'application/jsonx',
  'application/vnd.api+json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '*/*',
  ';',
];
