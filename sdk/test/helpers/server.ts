// The one place the SDK's tests touch byo-server: a real server (and a mock AI provider), started in-process.
export { startMockUpstream, type MockUpstream } from '../../../server/test/helpers/mock-upstream.js';
export { startTestServer, type TestProject, type TestServer, usingPostgres } from '../../../server/test/helpers/server.js';
export { SANDBOX_REPLY } from '../../../server/src/sandbox/content.js';

/** A `fetch` that re-delivers each response body in tiny chunks of 1 to 7 bytes, splitting lines and UTF-8 characters. */
export function rechunkingFetch(seed = 1): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const r = await reader.read();
        if (r.done) return ctrl.close();
        for (let i = 0; i < r.value.length; ) {
          seed = (seed * 16807) % 2147483647;
          const n = 1 + (seed % 7);
          ctrl.enqueue(r.value.slice(i, i + n));
          i += n;
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
