// Types of test-passes.mjs, for the vitest configs and the test that checks its list.
export declare const DATABASE_INDEPENDENT: Record<'server' | 'sdk' | 'cli' | 'web-components' | 'docs' | 'examples/saas-demo', string[]>;
export declare const databasePass: boolean;
export declare function databasePassFilter(
  pkg: keyof typeof DATABASE_INDEPENDENT,
  defaults: string[],
): { exclude: string[]; passWithNoTests: boolean };
