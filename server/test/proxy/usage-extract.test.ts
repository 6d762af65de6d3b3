import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { respondAs } from '../../src/sandbox/index.js';
import type { SandboxRequest } from '../../src/sandbox/types.js';
import { JsonUsageTap, SseUsageTap, type UsageTap, usageTapFor } from '../../src/usage/extract.js';

/** Feeds `body` to a tap in pieces cut at the given offsets (UTF-8 sequences may be cut too). */
function feed(tap: UsageTap, body: Buffer, cuts: number[]) {
  let at = 0;
  for (const c of [...new Set(cuts)].filter((x) => x > 0 && x < body.length).sort((x, y) => x - y)) {
    tap.push(body.subarray(at, c));
    at = c;
  }
  tap.push(body.subarray(at));
  return tap.finish();
}

const req = (path: string, body: unknown, query = ''): SandboxRequest => ({
  method: 'POST',
  path,
  query: new URLSearchParams(query),
  body,
});
const wire = (out: ReturnType<typeof respondAs>) => Buffer.from(out.events ? out.events.join('') : (out.body ?? ''));

const cases = [
  {
    name: 'OpenAI chat stream with include_usage',
    out: respondAs(
      'openai',
      req('/chat/completions', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'héllo wörld ✓' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    ),
    model: 'gpt-4o-mini',
  },
  {
    name: 'OpenAI responses stream',
    out: respondAs('openai', req('/responses', { model: 'gpt-4.1-mini', input: 'hi', stream: true })),
    model: 'gpt-4.1-mini',
  },
  {
    name: 'Anthropic messages stream',
    out: respondAs(
      'anthropic',
      req('/v1/messages', { model: 'claude-sonnet-4-6', max_tokens: 9, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    ),
    model: 'claude-sonnet-4-6',
  },
  {
    name: 'Gemini SSE stream (CRLF framing)',
    out: respondAs(
      'google',
      req('/v1beta/models/gemini-2.5-flash:streamGenerateContent', { contents: [{ parts: [{ text: 'hi' }] }] }, 'alt=sse'),
    ),
    model: 'gemini-2.5-flash',
  },
  {
    name: 'Gemini JSON-array stream',
    out: respondAs('google', req('/v1beta/models/gemini-2.5-flash:streamGenerateContent', { contents: [{ parts: [{ text: 'hi' }] }] })),
    model: 'gemini-2.5-flash',
  },
  {
    name: 'OpenAI chat JSON',
    out: respondAs('openai', req('/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })),
    model: 'gpt-4o',
  },
  {
    name: 'Anthropic messages JSON',
    out: respondAs(
      'anthropic',
      req('/v1/messages', { model: 'claude-haiku-4-5', max_tokens: 9, messages: [{ role: 'user', content: 'hi' }] }),
    ),
    model: 'claude-haiku-4-5',
  },
];

/** What the final usage is, read the slow obvious way from the last event/body that has one. */
function expected(out: ReturnType<typeof respondAs>) {
  const docs: unknown[] = out.events
    ? out.events.flatMap((e) =>
        String(e)
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
          .map((l) => JSON.parse(l.slice(6))),
      )
    : [JSON.parse(out.body ?? 'null')].flat();
  let input: number | null = null;
  let output: number | null = null;
  for (const d of docs as Record<string, any>[]) {
    const u = d.usage ?? d.response?.usage ?? d.message?.usage ?? null;
    if (u) {
      input = u.prompt_tokens ?? u.input_tokens ?? input;
      output = u.completion_tokens ?? u.output_tokens ?? output;
    }
    if (d.usageMetadata) {
      input = d.usageMetadata.promptTokenCount;
      output = d.usageMetadata.candidatesTokenCount ?? output;
    }
  }
  return { input, output };
}

describe('usage is read from the bytes passing through, however they are chunked', () => {
  for (const c of cases) {
    it(c.name, () => {
      const body = wire(c.out);
      const want = expected(c.out);
      expect(want.input).toBeGreaterThan(0);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: body.length - 1 }), { maxLength: 40 }), (cuts) => {
          const tap = usageTapFor(c.out.headers['content-type'], undefined) as UsageTap;
          const got = feed(tap, body, cuts);
          expect(got.model).toBe(c.model);
          expect(got.inputTokens).toBe(want.input);
          expect(got.outputTokens).toBe(want.output);
          expect(got.totalTokens).toBe((want.input ?? 0) + (want.output ?? 0));
        }),
        { numRuns: 60 },
      );
    });
  }
});

describe('JSON bodies', () => {
  it('reads model and usage from the head and tail without keeping the body', () => {
    const vectors = Array.from({ length: 60 }, (_, i) => ({
      object: 'embedding',
      index: i,
      embedding: Array.from({ length: 1536 }, () => 0.0123456),
    }));
    const body = Buffer.from(
      JSON.stringify({ object: 'list', data: vectors, model: 'text-embedding-3-large', usage: { prompt_tokens: 321, total_tokens: 321 } }),
    );
    expect(body.length).toBeGreaterThan(256 * 1024);
    const got = feed(
      new JsonUsageTap(),
      body,
      Array.from({ length: 200 }, (_, i) => i * 9973),
    );
    expect(got).toEqual({ model: 'text-embedding-3-large', inputTokens: 321, outputTokens: null, totalTokens: 321 });
  });

  it('reads a model name that is not ASCII, wherever the bytes are cut and however long the body', () => {
    const model = 'modèle-ünï ✓ 模型';
    const usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
    const expected = { model, inputTokens: 3, outputTokens: 4, totalTokens: 7 };
    const short = Buffer.from(JSON.stringify({ id: 'x', model, choices: [{ message: { content: 'héllo ✓' } }], usage }));
    for (let cut = 1; cut < short.length; cut++) expect(feed(new JsonUsageTap(), short, [cut])).toEqual(expected);
    // Long enough that the model is found in chunks leaving the 16 KiB tail, cut inside the name too.
    const long = Buffer.from(JSON.stringify({ id: 'x', model, choices: [{ message: { content: 'ü✓'.repeat(20_000) } }], usage }));
    const at = long.indexOf('"model"');
    for (let cut = at; cut < at + 40; cut++)
      expect(feed(new JsonUsageTap(), long, [cut, ...Array.from({ length: 40 }, (_, i) => cut + 1 + i * 2048)])).toEqual(expected);
  });

  it('is not fooled by usage-like text in the content, braces in strings, or a usage object cut off', () => {
    const content = 'Here is JSON: {"usage": {"prompt_tokens": 999}, "model": "fake"} and a brace }';
    const body = Buffer.from(
      JSON.stringify({
        id: 'x',
        model: 'gpt-4o',
        choices: [{ message: { role: 'assistant', content } }],
        usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11, note: 'a } and a { in a string' },
      }),
    );
    for (const cuts of [[], [17], [40, 90], Array.from({ length: 30 }, (_, i) => i * 7)]) {
      expect(feed(new JsonUsageTap(), body, cuts)).toEqual({ model: 'gpt-4o', inputTokens: 5, outputTokens: 6, totalTokens: 11 });
    }
    const cut = body.subarray(0, body.length - 20);
    expect(feed(new JsonUsageTap(), cut, [])).toMatchObject({ inputTokens: null, outputTokens: null });
  });

  it('reads only the top-level model and usage, as a full parse would', () => {
    const cases: Array<[string, unknown, Partial<Record<string, unknown>>]> = [
      [
        'Gemini function call whose arguments name a model',
        {
          candidates: [{ content: { parts: [{ functionCall: { name: 'switch', args: { model: 'gpt-4' } } }], role: 'model' } }],
          usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
          modelVersion: 'gemini-2.5-flash',
        },
        { model: 'gemini-2.5-flash', inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      ],
      [
        'a list of stored completions: their usage is not this call’s',
        { object: 'list', data: [{ id: 'c1', model: 'gpt-4o', usage: { prompt_tokens: 3, completion_tokens: 4 } }], has_more: false },
        { inputTokens: null, outputTokens: null },
      ],
      [
        'an object named usage after the real one (Responses API metadata)',
        { model: 'gpt-4o', usage: { input_tokens: 1, output_tokens: 2 }, metadata: { usage: {} } },
        { model: 'gpt-4o', inputTokens: 1, outputTokens: 2 },
      ],
      [
        'Anthropic tool input with its own model and usage keys',
        {
          model: 'claude-x',
          content: [{ type: 'tool_use', input: { model: 'other', usage: { input_tokens: 999 } } }],
          usage: { input_tokens: 4, output_tokens: 5 },
        },
        { model: 'claude-x', inputTokens: 4, outputTokens: 5 },
      ],
      [
        'Responses API with long instructions before the model, in 8 KiB chunks',
        {
          id: 'resp_1',
          instructions: 'x'.repeat(30_000),
          model: 'gpt-4o',
          output: [{ type: 'message', content: [{ type: 'output_text', text: 'y'.repeat(30_000) }] }],
          usage: { input_tokens: 5, output_tokens: 6, total_tokens: 11 },
        },
        { model: 'gpt-4o', inputTokens: 5, outputTokens: 6, totalTokens: 11 },
      ],
    ];
    for (const [name, doc, want] of cases) {
      const body = Buffer.from(JSON.stringify(doc, null, name.startsWith('Anthropic') ? 2 : undefined));
      for (const step of [0, 8192, 7]) {
        const cuts = step ? Array.from({ length: Math.ceil(body.length / step) }, (_, i) => i * step) : [];
        expect(feed(new JsonUsageTap(), body, cuts), `${name}, pieces of ${step || 'all'}`).toMatchObject(want);
      }
    }
  });

  it('counts Anthropic cache tokens as input', () => {
    const tap = new JsonUsageTap();
    tap.push(
      Buffer.from(
        JSON.stringify({
          model: 'claude-x',
          usage: { input_tokens: 10, cache_read_input_tokens: 90, cache_creation_input_tokens: 5, output_tokens: 7 },
        }),
      ),
    );
    expect(tap.finish()).toEqual({
      model: 'claude-x',
      inputTokens: 105,
      outputTokens: 7,
      totalTokens: 112,
      cachedInputTokens: 90,
      cacheWriteTokens: 5,
    });
  });

  it('gives nulls, not errors, for bodies without usage or that are not JSON', () => {
    for (const text of ['', 'not json', '{"error":{"message":"nope"}}', '[1,2', '{"usage":null}']) {
      const tap = new JsonUsageTap();
      tap.push(Buffer.from(text));
      expect(tap.finish()).toMatchObject({ inputTokens: null, outputTokens: null, totalTokens: null });
    }
    const sse = new SseUsageTap();
    sse.push(Buffer.from('data: {"usage": {oops\n\ndata: [DONE]\n\n: comment\n'));
    expect(sse.finish().inputTokens).toBeNull();
  });

  it('taps only JSON and SSE, and nothing compressed', () => {
    expect(usageTapFor('application/json; charset=utf-8', undefined)).toBeInstanceOf(JsonUsageTap);
    expect(usageTapFor('text/event-stream', undefined)).toBeInstanceOf(SseUsageTap);
    expect(usageTapFor('application/json', 'gzip')).toBeNull();
    expect(usageTapFor('audio/mpeg', undefined)).toBeNull();
    expect(usageTapFor(undefined, undefined)).toBeNull();
  });
});
