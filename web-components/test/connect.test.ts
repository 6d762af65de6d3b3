import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../../server/test/helpers/server.js';
import { launchChromium, watch } from './helpers/browser.js';
import { bundle, htmlPage, StaticServer } from './helpers/static-server.js';

/**
 * `createConnect().connect()` from the built package, in Chromium, on a page served from
 * 127.0.0.1 (one origin) against a started BYO server (another origin).
 */

let byo: TestServer;
let site: StaticServer;
let browser: Browser;
let project: TestProject;

beforeAll(async () => {
  // Every connect here comes from one IP and a few keys: the connect rate limits are tested elsewhere.
  const limits = { BYO_RATE_LIMIT_CONNECT_PER_IP: '10000', BYO_RATE_LIMIT_CONNECT_PER_KEY: '10000' };
  [byo, site, browser] = await Promise.all([startTestServer(limits), new StaticServer().start(), launchChromium()]);
  project = await byo.createProject({ validateOnConnect: true });
  site.script(
    '/app.js',
    await bundle(`import { createConnect, ConnectError } from 'byo-connect'; window.byo = { createConnect, ConnectError };`),
  );
  site.page('/', htmlPage('<p>app</p>', '/app.js'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await byo?.close();
});

type Outcome =
  | { ok: Record<string, unknown> }
  | { error: { name: string; statusCode: number; code: string; message: string; isConnectError: boolean; sync: boolean } };

/** Runs createConnect(options).connect(params) in the page; reports the result or the error. */
async function connectInPage(page: Page, options: Record<string, unknown>, params: Record<string, unknown>): Promise<Outcome> {
  return page.evaluate(
    async ([options, params]) => {
      const w = window as any;
      const describe = (e: any, sync: boolean) => ({
        name: e.name,
        statusCode: e.statusCode,
        code: e.code,
        message: e.message,
        isConnectError: e instanceof w.byo.ConnectError,
        sync,
      });
      let client: any;
      try {
        client = w.byo.createConnect(options);
      } catch (e) {
        return { error: describe(e, true) };
      }
      try {
        return { ok: await client.connect(params) };
      } catch (e) {
        return { error: describe(e, false) };
      }
    },
    [options, params] as const,
  );
}

async function openApp(): Promise<{ page: Page; seen: ReturnType<typeof watch> }> {
  const page = await browser.newPage();
  const seen = watch(page);
  await page.goto(`${site.url127}/`);
  await page.waitForFunction(() => Boolean((window as any).byo));
  return { page, seen };
}

describe('connect', () => {
  it('stores a key: resolves with its metadata, and the secret key sees it on the server', async () => {
    const { page } = await openApp();
    const out = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: project.pkTest },
      { provider: 'openai', refId: 'cust_browser', providerKey: 'sk-byo-test-valid' },
    );
    expect(out).toEqual({
      ok: {
        id: expect.stringMatching(/^key_/),
        provider: 'openai',
        refId: 'cust_browser',
        status: 'active',
        updated: false,
        keyHint: 'sk-...alid',
      },
    });
    const stored = await byo.request('GET', '/v1/keys/openai/cust_browser', { key: project.skTest });
    expect(stored.status, stored.text).toBe(200);
    expect(stored.body).toMatchObject({ id: (out as { ok: { id: string } }).ok.id, status: 'active', keyHint: 'sk-...alid' });
    await page.close();
  });

  it("passes limits through: the key owner's cap is stored with the key; a bad one is refused and stores nothing", async () => {
    const { page } = await openApp();
    const limits = [{ metric: 'cost_usd', window: 'month', max: 50 }];
    const out = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: project.pkTest },
      { provider: 'openai', refId: 'cust_browser_cap', providerKey: 'sk-byo-test-valid', limits },
    );
    expect(out).toMatchObject({ ok: { refId: 'cust_browser_cap', status: 'active' } });
    const stored = await byo.request('GET', '/v1/keys/openai/cust_browser_cap', { key: project.skTest });
    expect(stored.status, stored.text).toBe(200);
    expect(stored.body.limits).toEqual(limits);

    const refused = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: project.pkTest },
      {
        provider: 'openai',
        refId: 'cust_browser_badcap',
        providerKey: 'sk-byo-test-valid',
        limits: [{ metric: 'cost_usd', window: 'month', max: 0 }],
      },
    );
    // The server's 400 comes before its CORS answer, so the browser may hide its body: only the rejection is asserted.
    expect(refused).toEqual({ error: expect.objectContaining({ isConnectError: true, sync: false }) });
    expect((await byo.request('GET', '/v1/keys/openai/cust_browser_badcap', { key: project.skTest })).status).toBe(404);
    await page.close();
  });

  it('rejects with a typed error carrying the status and code of the server', async () => {
    const { page } = await openApp();
    const rejected = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: project.pkTest },
      { provider: 'anthropic', refId: 'cust_bad_key', providerKey: 'sk-byo-test-invalid' },
    );
    expect(rejected).toEqual({
      error: expect.objectContaining({ name: 'ConnectError', isConnectError: true, statusCode: 422, code: 'key_invalid', sync: false }),
    });

    // An unknown publishable key: the server's 401 names no project, so it allows no origin
    // and the browser hides it; the error says what to check.
    const unknownKey = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: `byo_pk_test_${'x'.repeat(40)}` },
      { provider: 'openai', refId: 'cust_x', providerKey: 'sk-byo-test-valid' },
    );
    expect(unknownKey).toEqual({ error: expect.objectContaining({ statusCode: 0, code: 'network_error' }) });
    expect((unknownKey as any).error.message).toContain('the publishable key is valid');
    expect((await byo.request('GET', '/v1/keys/openai/cust_x', { key: project.skTest })).status).toBe(404);

    // A publishable key cannot replace an existing key without a connect token: 409.
    const again = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: project.pkTest },
      { provider: 'openai', refId: 'cust_browser', providerKey: 'sk-byo-test-valid' },
    );
    expect(again).toEqual({ error: expect.objectContaining({ statusCode: 409, code: 'key_exists' }) });

    // ... and can with one.
    const token = await byo.request('POST', '/v1/connect-tokens', { key: project.skTest, body: { refId: 'cust_browser' } });
    expect(token.status, token.text).toBe(200);
    const replaced = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: project.pkTest },
      { provider: 'openai', refId: 'cust_browser', providerKey: 'sk-byo-test-valid', connectToken: token.body.token },
    );
    expect(replaced).toEqual({ ok: expect.objectContaining({ updated: true, status: 'active' }) });
    await page.close();
  });

  it("is refused for a page whose origin is not on a live project's allowed origins, and works once it is", async () => {
    const live = await byo.createProject({ allowedOrigins: ['https://app.example.com'], validateOnConnect: false });
    const { page } = await openApp();
    const refused = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: live.pkLive },
      { provider: 'openai', refId: 'cust_origin', providerKey: 'sk-live-looking-key-0001' },
    );
    // The server answers 403 without Access-Control-Allow-Origin, so the browser hides the answer.
    expect(refused).toEqual({ error: expect.objectContaining({ statusCode: 0, code: 'network_error', isConnectError: true }) });
    expect((refused as any).error.message).toContain(`this page's origin (${site.url127}) is in the project's allowed origins`);
    expect((await byo.request('GET', '/v1/keys/openai/cust_origin', { key: live.skLive })).status).toBe(404);

    const patched = await byo.request('PATCH', `/v1/admin/projects/${live.id}`, {
      key: byo.adminToken,
      body: { allowedOrigins: ['https://app.example.com', site.url127] },
    });
    expect(patched.status, patched.text).toBe(200);
    const accepted = await connectInPage(
      page,
      { baseURL: byo.url, publishableKey: live.pkLive },
      { provider: 'openai', refId: 'cust_origin', providerKey: 'sk-live-looking-key-0001' },
    );
    expect(accepted).toEqual({ ok: expect.objectContaining({ refId: 'cust_origin', status: 'active' }) });
    await page.close();
  });

  it('accepts every catalog provider, and sends providerConfig exactly as given', async () => {
    const catalog = (await byo.request('GET', '/v1/providers', { key: project.pkTest })).body.data as {
      id: string;
      credentials: { field: string; required: boolean }[];
    }[];
    // A valid value for each required providerConfig field a provider has today (Azure's endpoint, Bedrock's region, Vertex's location).
    const SAMPLE: Record<string, string> = { endpoint: 'https://byo-test.openai.azure.com', region: 'us-east-1', location: 'us-central1' };
    const { page, seen } = await openApp();
    const bodies: unknown[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/keys/connect')) bodies.push(r.postDataJSON());
    });
    for (const { id, credentials } of catalog) {
      const config = credentials.filter((c) => c.required && c.field.startsWith('providerConfig.')).map((c) => c.field.slice(15));
      const providerConfig = config.length ? Object.fromEntries(config.map((name) => [name, SAMPLE[name]])) : undefined;
      const params = {
        provider: id,
        refId: `cust_every_${id}`,
        providerKey: 'sk-byo-test-valid',
        ...(providerConfig ? { providerConfig } : {}),
      };
      const out = await connectInPage(page, { baseURL: byo.url, publishableKey: project.pkTest }, params);
      expect(out, id).toEqual({ ok: expect.objectContaining({ provider: id, refId: `cust_every_${id}`, status: 'active' }) });
      expect(bodies.at(-1), id).toEqual(params);
    }
    // A field the client does not know goes to the server as given (the server judges it).
    const extra = { provider: 'groq', refId: 'cust_every_extra', providerKey: 'sk-byo-test-valid', providerConfig: { region: 'eu' } };
    await connectInPage(page, { baseURL: byo.url, publishableKey: project.pkTest }, extra);
    expect(bodies.at(-1)).toEqual(extra);
    expect(seen.errors).toEqual([]);
    await page.close();
  });

  it('catches obvious mistakes before sending any request', async () => {
    const { page, seen } = await openApp();
    const ok = { baseURL: byo.url, publishableKey: project.pkTest };
    const params = { provider: 'openai', refId: 'cust_mistakes', providerKey: 'sk-byo-test-valid' };
    const cases: [Record<string, unknown>, Record<string, unknown>, string, boolean][] = [
      [{ ...ok, publishableKey: project.skTest }, params, 'secret_key_in_browser', true],
      [{ ...ok, publishableKey: '' }, params, 'invalid_config', true],
      [{ ...ok, baseURL: 'ftp://example.com' }, params, 'invalid_config', true],
      [ok, { ...params, providerKey: '' }, 'validation_failed', false],
      [ok, { ...params, providerKey: '   ' }, 'validation_failed', false],
      [ok, { ...params, provider: 'cohere' }, 'validation_failed', false],
      [ok, { ...params, provider: 'toString' }, 'validation_failed', false],
      [ok, { ...params, refId: 'has space' }, 'validation_failed', false],
      [ok, { ...params, refId: '..' }, 'validation_failed', false],
      [ok, { ...params, providerKey: project.pkTest }, 'validation_failed', false],
    ];
    for (const [options, p, code, sync] of cases) {
      const out = await connectInPage(page, options, p);
      expect(out, JSON.stringify([options, p])).toEqual({
        error: expect.objectContaining({ code, statusCode: 0, sync, isConnectError: true }),
      });
    }
    const secret = await connectInPage(page, { ...ok, publishableKey: project.skTest }, params);
    expect((secret as any).error.message).not.toContain(project.skTest);
    expect(seen.requests.filter((r) => r.includes(byo.url))).toEqual([]);
    await page.close();
  });

  it('runs the published form and the object form, from a bundler (ESM) and from the script-tag build', async () => {
    // Published: `const connect = createConnect(...); await connect(...)`. Kept: `createConnect(...).connect(...)`.
    const FORMS = {
      published:
        '(async () => { const connect = createConnect({ baseURL, publishableKey }); return connect({ provider, refId, providerKey }); })()',
      object: 'createConnect({ baseURL, publishableKey }).connect({ provider, refId, providerKey })',
    };
    const inputs = (refId: string) =>
      `const [baseURL, publishableKey, provider, refId, providerKey] = ${JSON.stringify([byo.url, project.pkTest, 'google', refId, 'sk-byo-test-valid'])};`;
    const cases: [string, string][] = [];
    for (const [form, snippet] of Object.entries(FORMS)) {
      site.script(
        `/snippet-esm-${form}.js`,
        await bundle(`import { createConnect } from 'byo-connect';\n${inputs(`cust_esm_${form}`)}\nwindow.result = await ${snippet};`),
      );
      site.page(`/snippet-esm-${form}.html`, htmlPage('', `/snippet-esm-${form}.js`));
      site.page(
        `/snippet-global-${form}.html`,
        `<!doctype html><script src="/dist/byo-connect.global.js"></script><script>const { createConnect } = BYOConnect; ${inputs(`cust_global_${form}`)} ${snippet}.then((r) => { window.result = r; });</script>`,
      );
      cases.push([`/snippet-esm-${form}.html`, `cust_esm_${form}`], [`/snippet-global-${form}.html`, `cust_global_${form}`]);
    }
    for (const [path, refId] of cases) {
      const page = await browser.newPage();
      const seen = watch(page);
      await page.goto(`${site.url127}${path}`);
      await page.waitForFunction(() => (window as any).result !== undefined);
      expect(await page.evaluate(() => (window as any).result)).toMatchObject({
        provider: 'google',
        refId,
        status: 'active',
        keyHint: 'sk-...alid',
      });
      expect(seen.errors).toEqual([]);
      expect((await byo.request('GET', `/v1/keys/google/${refId}`, { key: project.skTest })).body.status).toBe('active');
      await page.close();
    }
  });

  it('returns a function that is also its own `.connect`, with a read-only `.baseURL`', async () => {
    const { page } = await openApp();
    const shape = await page.evaluate((url) => {
      const connect = (window as any).byo.createConnect({ baseURL: `${url}//`, publishableKey: 'byo_pk_test_x' });
      const before = connect.baseURL;
      try {
        connect.baseURL = 'http://elsewhere';
      } catch {}
      return {
        type: typeof connect,
        self: connect.connect === connect,
        baseURL: before,
        after: connect.baseURL,
        keys: Object.keys(connect),
      };
    }, byo.url);
    expect(shape).toEqual({ type: 'function', self: true, baseURL: byo.url, after: byo.url, keys: [] });
    // `baseUrl`, as in providerConfig.baseUrl, is taken too rather than silently falling back to localhost.
    const alias = await page.evaluate(
      (url) => (window as any).byo.createConnect({ baseUrl: url, publishableKey: 'byo_pk_test_x' }).baseURL,
      byo.url,
    );
    expect(alias).toBe(byo.url);
    await page.close();
  });
});
