import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from '../helpers/server.js';

/**
 * Login CSRF: sign-in makes a session before there is a cookie for SameSite to guard, so it
 * must prove it comes from the dashboard page on this origin. A page elsewhere cannot sign a
 * victim's browser in to the attacker's project, by fetch or by a plain form post.
 */
let server: TestServer;
let project: TestProject;
beforeAll(async () => {
  server = await startTestServer();
  project = await server.createProject();
}, 120_000);
afterAll(async () => {
  await server?.close();
});

const signIn = (headers: Record<string, string>, body: string) =>
  fetch(`${server.url}/trpc/dashboard.signIn`, { method: 'POST', headers, body });

async function refused(res: Response, message: RegExp): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(403);
  expect(res.headers.get('set-cookie')).toBeNull();
  const err = JSON.parse(text).error;
  expect(err.data.code).toBe('csrf_failed');
  expect(err.message).toMatch(message);
  expect(text).not.toContain(project.skTest);
}

describe('dashboard sign-in proves it is same-origin', () => {
  const json = () => JSON.stringify({ secret: project.skTest });

  it('is refused from a foreign Origin, and from a cross-site page that sends no Origin', async () => {
    await refused(
      await signIn({ 'content-type': 'application/json', origin: 'https://attacker.example' }, json()),
      /Origin https:\/\/attacker\.example is not this server's origin/,
    );
    await refused(await signIn({ 'content-type': 'application/json' }, json()), /no Origin header/);
    await refused(
      await signIn({ 'content-type': 'application/json', origin: server.url, 'sec-fetch-site': 'cross-site' }, json()),
      /cross-site page/,
    );
  });

  it('is refused as a form-style post (text/plain, urlencoded, multipart), even with this server as Origin', async () => {
    // What an HTML form can send: text/plain and urlencoded bodies never reach a procedure ...
    for (const [ct, body] of [
      ['text/plain', json()],
      ['application/x-www-form-urlencoded', `secret=${project.skTest}`],
    ] as const) {
      for (const origin of [server.url, 'https://attacker.example']) {
        const res = await signIn({ 'content-type': ct, origin }, body);
        expect(res.status).toBe(415);
        expect(res.headers.get('set-cookie')).toBeNull();
        const b = await res.json();
        expect(b.error?.data.code ?? b.code).toBe('unsupported_media_type'); // tRPC's error shape, or the HTTP layer's
      }
    }
    // ... and a multipart one, which tRPC would read, is refused before its input is.
    const form = new FormData();
    form.set('secret', project.skTest);
    await refused(
      await fetch(`${server.url}/trpc/dashboard.signIn`, { method: 'POST', headers: { origin: server.url }, body: form }),
      /must be JSON/,
    );
  });

  it('succeeds from this origin (as the dashboard page sends it), on the address the client used', async () => {
    for (const origin of [server.url, server.url.replace('127.0.0.1', 'localhost')]) {
      const res = await signIn({ 'content-type': 'application/json', origin, 'sec-fetch-site': 'same-origin' }, json());
      expect(res.status, await res.text()).toBe(200);
      expect(res.headers.get('set-cookie')).toMatch(/^byo_session=byo_ds_/);
    }
  });

  it('refused sign-ins do not count towards the lockout of failed ones', async () => {
    for (let i = 0; i < 12; i++) await signIn({ 'content-type': 'text/plain', origin: 'https://attacker.example' }, json());
    const res = await signIn({ 'content-type': 'application/json', origin: server.url }, json());
    expect(res.status).toBe(200);
  });
});
