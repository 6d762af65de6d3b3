import { describe, expect, it } from 'vitest';
import { testBlocks } from './lib/markdown.js';
import { matchJson, matchOutput, matchText } from './lib/match.js';

describe('marking blocks', () => {
  it('runs blocks tagged `test` in the info string or by a comment before them, with their output block', () => {
    const md = [
      '```sh',
      'echo not run',
      '```',
      '```sh test',
      'echo one',
      '```',
      '```text output',
      'one',
      '```',
      '<!-- test background ready=listening timeout=5000 -->',
      '',
      '~~~ts',
      'console.log("listening")',
      '~~~',
      '```json',
      '{}',
      '```',
    ].join('\n');
    const blocks = testBlocks(md);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatchObject({ lang: 'sh', code: 'echo one', line: 4, expected: { lang: 'text', code: 'one' } });
    expect(blocks[1]?.flags.has('background')).toBe(true);
    expect(blocks[1]?.options).toEqual({ ready: 'listening', timeout: '5000' });
    expect(blocks[1]?.expected).toBeUndefined();
  });

  it('does not treat a comment separated by prose as a marker', () => {
    expect(testBlocks('<!-- test -->\nSome prose.\n```sh\necho\n```\n')).toHaveLength(0);
  });

  it('keeps fences inside a longer fence as code', () => {
    const blocks = testBlocks('````md test\n```sh\necho\n```\n````\n');
    expect(blocks[0]?.code).toBe('```sh\necho\n```');
  });
});

describe('matching output', () => {
  it('matches JSON as a pattern: shown keys only, ... wildcards', () => {
    const exp = { id: 'key_...', status: 'active', n: 1, any: '...', list: ['a', '...'] };
    expect(matchJson(exp, { id: 'key_abc', status: 'active', n: 1, any: { x: 1 }, list: ['a', 'b'], extra: true }, '$')).toBeNull();
    expect(matchJson(exp, { id: 'key_abc', status: 'revoked', n: 1, any: 1, list: ['a'] }, '$')).toMatch(/\$\.status/);
    expect(matchJson(exp, { id: 'ak_abc', status: 'active', n: 1, any: 1, list: ['a'] }, '$')).toMatch(/\$\.id/);
    expect(matchJson({ a: 1 }, {}, '$')).toMatch(/missing/);
    expect(matchJson([1, 2], [1, 2, 3], '$')).toMatch(/2 item/);
  });

  it('matches several JSON values, one per line', () => {
    expect(matchOutput('json', '{"a":1}\n{"a":2}', '{"a":1,"b":0}\n{"a":2}\n')).toBeNull();
    expect(matchOutput('json', '{"a":1}\n{"a":2}', '{"a":1}\n')).toMatch(/2 JSON value/);
    expect(matchOutput('json', '{\n  "a": 1\n}', '{"a":1}')).toBeNull();
  });

  it('matches text line by line with ... wildcards', () => {
    expect(matchText('Hello ...!\n...\nend', 'Hello world!\nx\ny\nend\n')).toBeNull();
    expect(matchText('Hello ...!\nend', 'Hello world!\nx\nend')).not.toBeNull();
    expect(matchText('a', 'b')).toMatch(/does not match/);
  });
});

describe('matching back-to-back JSON', () => {
  it('splits values printed without a newline between them', () => {
    expect(matchOutput('json', '{"a":1}\n{"b":"x}"}', '{"a":1}{"b":"x}"}')).toBeNull();
    expect(matchOutput('json', '[1]\n[2]', '[1] [2]')).toBeNull();
  });
});
