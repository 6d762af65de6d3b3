import fc from 'fast-check';

/** Shortens a counterexample for the failure message (fuzzed bodies can be megabytes). */
function short(value: unknown, max = 1500): string {
  const text = fc.stringify(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/**
 * fast-check parameters for the hardening property tests: a bounded run, and on failure a
 * short report with the seed and path that replay it (BYO_FUZZ_SEED / BYO_FUZZ_PATH).
 */
export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.BYO_FUZZ_SEED ? Number(process.env.BYO_FUZZ_SEED) : undefined;
  return {
    numRuns,
    ...(seed !== undefined ? { seed } : {}),
    ...(process.env.BYO_FUZZ_PATH ? { path: process.env.BYO_FUZZ_PATH } : {}),
    endOnFailure: process.env.BYO_FUZZ_SHRINK !== '1',
    reporter(details) {
      if (!details.failed) return;
      const err = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(
        `Property failed after ${details.numRuns} runs (replay: BYO_FUZZ_SEED=${details.seed} BYO_FUZZ_PATH=${details.counterexamplePath})\n` +
          `${err}\nCounterexample: ${short(details.counterexample)}`,
      );
    },
  };
}
