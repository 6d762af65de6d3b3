import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * The hosted connect form over HTTP: which page is served to whom, with which CSP, and the
 * keys.connect rule that accepts the server's own origin (the form's same-origin calls).
 * The browser side (framing, postMessage, isolation) is in web-components/test.
 */

let server: TestServer;
let testProject: TestProject;
let liveProject: TestProject;
const APP = 'https://app.example.com';

beforeAll(async () => {
  server = await startTestServer();
  testProject = await server.createProject();
  liveProject = await server.createProject({ allowedOrigins: [APP, 'https://admin.example.com'], validateOnConnect: false });
});
afterAll(async () => {
  await server?.close();
});

function embedUrl(params: Record<string, string>): string {
  return `/connect/embed?${new URLSearchParams(params)}`;
}

function csp(res: { headers: Headers }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (res.headers.get('content-security-policy') ?? '').split(';')) {
    const [name, ...rest] = part.trim().split(/\s+/);
    if (name) out[name] = rest.join(' ');
  }
  return out;
}

describe('GET /connect/embed', () => {
  it('serves the form to an allowed parent with a strict CSP whose frame-ancestors are the allowed origins', async () => {
    const res = await server.request('GET', embedUrl({ pk: liveProject.pkLive, refId: 'cust_1', parentOrigin: APP }));
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(csp(res)).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'img-src': "'self' data:",
      'form-action': "'self'",
      'base-uri': "'none'",
      'frame-ancestors': `${APP} https://admin.example.com`,
      'require-trusted-types-for': "'script'",
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBeNull();
    // No inline script or style: one external script and one stylesheet.
    expect(res.text).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(res.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(res.text).toMatch(/<script src="\/connect\/embed\/assets\/embed\.[0-9a-f]{12}\.js" defer><\/script>/);
    expect(res.text).toContain(`data-parent-origin="${APP}"`);
    // The key input has no name: without the script nothing can submit it.
    expect(res.text).toMatch(/<input id="byo-key" type="password"(?![^>]*\sname=)[^>]*>/);
    // And the button is disabled until the script has taken over the form: a click that comes
    // first (a slow script) cannot submit the form natively and reload the frame.
    expect(res.text).toMatch(/<button type="submit" id="byo-submit" disabled>/);
    expect(res.text).not.toContain('Test mode');
  });

  it('refuses a parent origin that is not allowed, and the page may only be framed by allowed origins', async () => {
    for (const parentOrigin of [
      'https://evil.example.com',
      'https://app.example.com.evil.test',
      'http://app.example.com',
      'https://app.example.com:8443',
    ]) {
      const res = await server.request('GET', embedUrl({ pk: liveProject.pkLive, refId: 'cust_1', parentOrigin }));
      expect(res.status, parentOrigin).toBe(403);
      expect(csp(res)['frame-ancestors']).toBe(`${APP} https://admin.example.com`);
      expect(res.text).not.toContain('byo-key');
      expect(res.text).toContain('is not in this project&#39;s allowed origins');
    }
  });

  it('refuses when the Referer disagrees with the declared parent origin', async () => {
    const res = await server.request('GET', embedUrl({ pk: liveProject.pkLive, refId: 'cust_1', parentOrigin: APP }), {
      headers: { referer: 'https://evil.example.com/page' },
    });
    expect(res.status).toBe(403);
    const ok = await server.request('GET', embedUrl({ pk: liveProject.pkLive, refId: 'cust_1', parentOrigin: APP }), {
      headers: { referer: `${APP}/settings` },
    });
    expect(ok.status).toBe(200);
  });

  it('in test mode a project without allowed origins accepts any parent, and frame-ancestors pins the declared one', async () => {
    const res = await server.request('GET', embedUrl({ pk: testProject.pkTest, refId: 'cust_1', parentOrigin: 'http://localhost:5173' }));
    expect(res.status, res.text).toBe(200);
    expect(csp(res)['frame-ancestors']).toBe('http://localhost:5173');
    expect(res.text).toContain('Test mode');
    // A live key of a project without allowed origins accepts no parent.
    const live = await server.request('GET', embedUrl({ pk: testProject.pkLive, refId: 'cust_1', parentOrigin: 'http://localhost:5173' }));
    expect(live.status).toBe(403);
    expect(csp(live)['frame-ancestors']).toBe("'none'");
  });

  it('explains a bad publishable key, a secret key, a missing refId or a bad provider list, without echoing keys', async () => {
    const bad = await server.request('GET', embedUrl({ pk: 'byo_pk_test_notarealkey', refId: 'c', parentOrigin: APP }));
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('This publishable key is not valid.');
    expect(bad.text).not.toContain('byo_pk_test_notarealkey');

    const secret = await server.request('GET', embedUrl({ pk: testProject.skTest, refId: 'c', parentOrigin: APP }));
    expect(secret.status).toBe(400);
    expect(secret.text).toContain('A secret key must never be put in a web page');
    expect(secret.text).not.toContain(testProject.skTest);
    expect(csp(secret)['frame-ancestors']).toBe("'none'");

    const noRef = await server.request('GET', embedUrl({ pk: testProject.pkTest, parentOrigin: APP }));
    expect(noRef.status).toBe(400);
    expect(noRef.text).toContain('refId is missing');

    const badRef = await server.request('GET', embedUrl({ pk: testProject.pkTest, refId: '<script>', parentOrigin: APP }));
    expect(badRef.status).toBe(400);
    expect(badRef.text).not.toContain('<script>');

    const providers = await server.request('GET', embedUrl({ pk: testProject.pkTest, refId: 'c', parentOrigin: APP, providers: 'cohere' }));
    expect(providers.status).toBe(400);
  });

  it('offers the providers asked for, and locks to one with provider', async () => {
    const two = await server.request(
      'GET',
      embedUrl({ pk: testProject.pkTest, refId: 'c', parentOrigin: APP, providers: 'anthropic, google' }),
    );
    expect(two.text).toContain('value="anthropic" checked');
    expect(two.text).toContain('value="google"');
    expect(two.text).not.toContain('value="openai"');
    expect(two.text).not.toContain('<select id="byo-provider"');
    expect(templates(two.text).map((t) => t.id)).toEqual(['anthropic', 'google']);
    const one = await server.request(
      'GET',
      embedUrl({ pk: testProject.pkTest, refId: 'c', parentOrigin: APP, provider: 'openai', theme: 'dark' }),
    );
    expect(one.text).toContain('<html lang="en" data-theme="dark">');
    expect(one.text).toContain('Connect your OpenAI key');
    expect(one.text).toContain('<fieldset class="providers" hidden>');
  });

  it('renders, for every catalog provider, exactly the fields of its catalog entry (GET /v1/providers)', async () => {
    const catalog = await server.request('GET', '/v1/providers', { key: testProject.pkTest });
    expect(catalog.status, catalog.text).toBe(200);
    const entries = catalog.body.data as CatalogEntry[];
    const page = await server.request('GET', embedUrl({ pk: testProject.pkTest, refId: 'c', parentOrigin: APP }));
    expect(page.status, page.text).toBe(200);
    // Past a handful, the providers are a <select> with a visible label, one option per catalog entry.
    expect(page.text).toMatch(/<label for="byo-provider">Provider<\/label>\s*<select id="byo-provider">/);
    const picker = /<select id="byo-provider">([\s\S]*?)<\/select>/.exec(page.text)?.[1] ?? '';
    const options = [...picker.matchAll(/<option value="([^"]+)"[^>]*>([^<]+)<\/option>/g)].map((m) => [m[1], m[2]]);
    expect(options).toEqual(entries.map((e) => [e.id, e.name]));
    expect(templates(page.text)).toEqual(entries.map((e) => ({ id: e.id, name: e.name, fields: e.credentials.map(expectedInput) })));
    // No input of the form has a name: a value can only leave the page through the script's fetch.
    expect(page.text).not.toMatch(/<input(?![^>]*type="radio")[^>]*\sname=/);
  });

  it('with providers, lists only those (radios, in catalog order) and only their fields', async () => {
    const res = await server.request('GET', embedUrl({ pk: testProject.pkTest, refId: 'c', parentOrigin: APP, providers: 'groq,openai' }));
    expect(res.status, res.text).toBe(200);
    expect([...res.text.matchAll(/<input type="radio" name="provider" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['openai', 'groq']);
    expect(templates(res.text).map((t) => t.id)).toEqual(['openai', 'groq']);
    expect(res.text).toContain('placeholder="gsk_..."');
    expect(res.text).toContain(
      '<a href="https://console.groq.com/keys" target="_blank" rel="noopener noreferrer">Where do I find this?</a>',
    );
  });

  it('serves its script and stylesheet from immutable, content-hashed URLs', async () => {
    const page = await server.request('GET', embedUrl({ pk: testProject.pkTest, refId: 'c', parentOrigin: APP }));
    const script = /src="([^"]+\.js)"/.exec(page.text)?.[1] as string;
    const style = /href="([^"]+\.css)"/.exec(page.text)?.[1] as string;
    for (const [path, type] of [
      [script, 'text/javascript'],
      [style, 'text/css'],
    ] as const) {
      const res = await server.request('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await server.request('GET', '/connect/embed/assets/embed.000000000000.js')).status).toBe(404);
  });
});

describe('POST /v1/keys/connect from the hosted form', () => {
  it("accepts the server's own origin for a live publishable key, and still refuses other origins", async () => {
    const own = await server.request('POST', '/v1/keys/connect', {
      key: liveProject.pkLive,
      headers: { origin: server.url },
      body: { provider: 'openai', refId: 'embed_own', providerKey: 'sk-live-looking-key-1234' },
    });
    expect(own.status, own.text).toBe(200);
    const foreign = await server.request('POST', '/v1/keys/connect', {
      key: liveProject.pkLive,
      headers: { origin: 'https://evil.example.com' },
      body: { provider: 'openai', refId: 'embed_foreign', providerKey: 'sk-live-looking-key-1234' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('origin_not_allowed');
    const port = new URL(server.url).port;
    const otherPort = await server.request('POST', '/v1/keys/connect', {
      key: liveProject.pkLive,
      headers: { origin: `http://127.0.0.1:${Number(port) + 1}` },
      body: { provider: 'openai', refId: 'embed_port', providerKey: 'sk-live-looking-key-1234' },
    });
    expect(otherPort.status).toBe(403);
  });
});

interface CatalogEntry {
  id: string;
  name: string;
  credentials: { field: string; label: string; secret: boolean; required: boolean; placeholder: string; helpUrl?: string }[];
}

/** What the page should render for one catalog field. */
function expectedInput(c: CatalogEntry['credentials'][number]) {
  return {
    field: c.field,
    type: c.secret ? 'password' : 'text',
    label: c.label,
    required: c.required,
    placeholder: c.placeholder,
    help: c.helpUrl ?? null,
  };
}

/** The per-provider field templates of a rendered page, read back from its HTML. */
function templates(html: string) {
  return [...html.matchAll(/<template id="byo-creds-([^"]+)" data-name="([^"]*)">([\s\S]*?)<\/template>/g)].map(([, id, name, body]) => ({
    id,
    name: decodeEntities(name as string),
    fields: [...(body as string).matchAll(/<div class="field">([\s\S]*?)<\/div>/g)].map(([, field]) => {
      const f = field as string;
      const input = /<input ([^>]*)>/.exec(f)?.[1] ?? '';
      const attr = (n: string) => decodeEntities(new RegExp(`\\s${n}="([^"]*)"`).exec(` ${input}`)?.[1]);
      const inputId = attr('id');
      return {
        field: attr('data-field'),
        type: attr('type'),
        label: decodeEntities(new RegExp(`<label for="${inputId}">([^<]*)`).exec(f)?.[1]?.trim()),
        required: / required/.test(input),
        placeholder: attr('placeholder'),
        help:
          decodeEntities(/<a href="([^"]+)" target="_blank" rel="noopener noreferrer">Where do I find this\?<\/a>/.exec(f)?.[1]) ?? null,
      };
    }),
  }));
}

function decodeEntities(value: string | undefined): string | undefined {
  return value?.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
}
