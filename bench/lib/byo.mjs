// BYO set-up the benchmark scripts share.
import { request } from 'undici';

/**
 * Creates a project through the admin API and connects `providerKey` for OpenAI under refId
 * `bench` with its live secret key; returns that secret key.
 */
export async function connectBenchKey(baseUrl, adminToken, providerKey) {
  const created = await (
    await request(`${baseUrl}/v1/admin/projects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    })
  ).body.json();
  const sk = created.keys.find((k) => k.kind === 'sk' && k.mode === 'live').key;
  const conn = await request(`${baseUrl}/v1/keys/connect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'openai', refId: 'bench', providerKey }),
  });
  if (conn.statusCode !== 200) throw new Error(`connect failed: ${await conn.body.text()}`);
  await conn.body.dump();
  return sk;
}
