import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// api.md is the index of the public surface: every name src/index.ts exports must appear in it.

const sdkDir = fileURLToPath(new URL('..', import.meta.url));

describe('api.md', () => {
  it('lists every exported name', () => {
    const entry = `${sdkDir}src/index.ts`;
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    });
    const checker = program.getTypeChecker();
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const names = checker.getExportsOfModule(symbol).map((s) => s.getName());
    expect(names.length).toBeGreaterThan(100);
    const md = readFileSync(`${sdkDir}api.md`, 'utf8');
    const missing = names.filter((n) => n !== 'default' && !new RegExp(`\\b${n}\\b`).test(md));
    expect(missing).toEqual([]);
  }, 120_000);
});
