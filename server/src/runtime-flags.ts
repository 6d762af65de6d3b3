import { setFlagsFromString } from 'node:v8';

/**
 * V8 tuning for the server process. Only main.ts imports this module, first (so it runs before
 * the rest of the server is loaded): a program that uses byo-server as a library keeps its own flags.
 *
 * Allocation-site pretenuring off: V8 learns from the objects that outlive a young-generation
 * GC which allocation sites to place straight in the old generation. In this server the startup
 * (schemas, routers, caches) teaches it that about sites the per-request code shares, so under
 * load short-lived request objects went to the old generation: scavenges took 5-6 ms instead of
 * 1-2, the old generation grew by ~3 MB per scavenge until a mark-compact (a p99 spike and a
 * higher RSS), and a proxied call cost ~20% more CPU (docs/decisions/0024-v8-pretenuring.md).
 * An operator who sets `--allocation-site-pretenuring` in NODE_OPTIONS keeps it.
 */
export function v8FlagsFor(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const chosen = [...execArgv, nodeOptions ?? ''].some((a) => a.includes('allocation-site-pretenuring'));
  return chosen ? [] : ['--no-allocation-site-pretenuring'];
}

for (const flag of v8FlagsFor(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(flag);
