/**
 * The only place the SDK reads the environment. Works where `process` does not exist (edge
 * runtimes, browsers) and on Deno without `--allow-env` (the read just comes back empty).
 */
export function readEnv(name: string): string | undefined {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined> };
    Deno?: { env?: { get?: (k: string) => string | undefined } };
  };
  try {
    const v = g.process?.env?.[name] ?? g.Deno?.env?.get?.(name);
    const trimmed = v?.trim();
    return trimmed ? trimmed : undefined;
  } catch {
    return undefined;
  }
}

/** True in a web page (not in Node, Bun, Deno or a worker). */
export function isBrowserPage(): boolean {
  const g = globalThis as { window?: unknown; document?: unknown };
  return typeof g.window !== 'undefined' && typeof g.document !== 'undefined';
}
