import { Flags } from '@oclif/core';
import { PROVIDERS, type ProviderName } from './args.js';

const METRICS = ['requests', 'tokens', 'cost_usd'] as const;
const WINDOWS = ['minute', 'hour', 'day', 'month'] as const;

export interface LimitSpec {
  metric: (typeof METRICS)[number];
  window: (typeof WINDOWS)[number];
  max: number;
  provider?: ProviderName;
}

/**
 * `--limit metric:window:max[:provider]`, repeatable: `cost_usd:month:50`, `requests:minute:60:openai`.
 * Checked here for shape only; the server checks the rest (whole numbers, duplicates).
 */
export function limitsFlag(opts: { withProvider: boolean }) {
  const form = opts.withProvider ? 'metric:window:max[:provider]' : 'metric:window:max';
  return Flags.custom<LimitSpec>({
    description: `A limit as ${form} (${METRICS.join('|')} : ${WINDOWS.join('|')} : a number), e.g. cost_usd:month:50. Repeat for several.`,
    multiple: true,
    required: true,
    parse: async (v) => {
      const [metric, window, max, provider, ...rest] = v.split(':');
      const bad = (why: string) => new Error(`"${v}" is not a limit (${form}): ${why}`);
      if (rest.length > 0 || (provider !== undefined && !opts.withProvider)) throw bad('too many parts');
      if (!METRICS.includes(metric as LimitSpec['metric'])) throw bad(`the metric is one of ${METRICS.join(', ')}`);
      if (!WINDOWS.includes(window as LimitSpec['window'])) throw bad(`the window is one of ${WINDOWS.join(', ')}`);
      if (max === undefined || max.trim() === '' || !Number.isFinite(Number(max))) throw bad('max is a number');
      if (provider !== undefined && !PROVIDERS.includes(provider as ProviderName)) throw bad(`unknown provider ${provider}`);
      return {
        metric: metric as LimitSpec['metric'],
        window: window as LimitSpec['window'],
        max: Number(max),
        ...(provider ? { provider: provider as ProviderName } : {}),
      };
    },
  })();
}

/** `requests/day: 100`, or with its use `requests/day: 3 of 100`. */
export function limitLine(l: { metric: string; window: string; provider?: string | null; used?: number; max: number }): string {
  return `${l.metric}/${l.window}${l.provider ? ` ${l.provider}` : ''}: ${l.used === undefined ? '' : `${l.used} of `}${l.max}`;
}
