import { describe, expect, it } from 'vitest';
import { v8FlagsFor } from '../../src/runtime-flags.js';

describe('V8 flags of the server process', () => {
  it('turns allocation-site pretenuring off by default', () => {
    expect(v8FlagsFor([], undefined)).toEqual(['--no-allocation-site-pretenuring']);
    expect(v8FlagsFor(['--enable-source-maps'], '--max-old-space-size=512')).toEqual(['--no-allocation-site-pretenuring']);
  });

  it("leaves the operator's choice alone, on the command line or in NODE_OPTIONS", () => {
    expect(v8FlagsFor(['--allocation-site-pretenuring'], undefined)).toEqual([]);
    expect(v8FlagsFor([], '--max-old-space-size=512 --allocation-site-pretenuring')).toEqual([]);
    expect(v8FlagsFor([], '--no-allocation-site-pretenuring')).toEqual([]);
  });
});
