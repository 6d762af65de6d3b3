import type { ProviderName } from '../db/schema.js';
import { disableKey, type KeyVersion } from '../domain/provider-keys.js';
import type { Metrics } from '../observability/metrics.js';
import type { Services } from '../services.js';
import { cutStreamCounts, type UsageCounts, type UsageTap } from '../usage/extract.js';
import type { UsageRecorder } from '../usage/recorder.js';
import type { Call } from './call.js';
import type { KeyRef } from './provider-key.js';

type Observer = { observe(value: number): void };
type ProviderHistograms = { upstream: Observer; overhead: Observer };

/** What an ended call leaves behind: its metrics, its usage record, and the stored key disabled when the provider rejected it. */
export class CallAccounting {
  private readonly providerHistograms = new Map<ProviderName, ProviderHistograms>();
  private readonly disabling = new Set<string>();

  constructor(private readonly deps: { services: Services; metrics: Metrics; recorder: UsageRecorder }) {}

  /** Counts the call by its answer, and times the provider and BYO's own part of it (once dispatched). */
  measure(call: Call, status: number): void {
    this.deps.metrics.proxiedCount(call.provider, status, call.source).n++;
    if (!call.dispatchedAt) return;
    let overhead = call.dispatchedAt - call.startedAt;
    const h = this.histograms(call.provider);
    if (call.upstreamHeadersAt) {
      h.upstream.observe((call.upstreamHeadersAt - call.dispatchedAt) / 1000);
      if (call.clientHeadersAt) overhead += call.clientHeadersAt - call.upstreamHeadersAt;
    }
    h.overhead.observe(overhead / 1000);
  }

  /** The answer's usage, as its tap read it: a stream the client cut counts what it streamed. */
  usage(call: Call): UsageCounts | undefined {
    const tapped = call.tap?.finish();
    const usage = tapped && call.clientGone ? cutStreamCounts(tapped, call.tap as UsageTap) : tapped;
    if (usage?.rejected) for (const [reason, n] of Object.entries(usage.rejected)) this.deps.metrics.usageValuesRejected.inc({ reason }, n);
    return usage;
  }

  /** The call's usage record (written in batches by the recorder); `now`: when the call ended. */
  record(call: Call, ref: KeyRef, status: number, usage: UsageCounts | undefined, now: number): void {
    this.deps.recorder.record({
      projectId: ref.projectId,
      mode: ref.mode,
      refId: ref.refId,
      provider: ref.provider,
      keyId: call.key?.id ?? null,
      model: usage?.model ?? call.urlModel,
      status,
      latencyMs: Math.round(now - call.startedAt),
      inputTokens: usage?.inputTokens ?? null,
      outputTokens: usage?.outputTokens ?? null,
      totalTokens: usage?.totalTokens ?? null,
      cachedInputTokens: usage?.cachedInputTokens ?? null,
      cacheWriteTokens: usage?.cacheWriteTokens ?? null,
      createdAt: Date.now(),
    });
  }

  /**
   * The provider rejected the key this call sent: mark that version disabled (emits
   * `key.disabled` once; nothing if the key was replaced meanwhile).
   */
  disable(ref: KeyRef, used: KeyVersion, status: number): void {
    const id = `${used.id}|${used.version.toString('base64')}`;
    if (this.disabling.has(id)) return;
    this.disabling.add(id);
    const { services } = this.deps;
    disableKey(services, ref, used, { actor: 'system:proxy' }, `The provider rejected the key (HTTP ${status}) on a proxied call.`)
      .catch((err: unknown) => services.logger.warn({ err, provider: ref.provider }, 'could not disable a rejected key'))
      .finally(() => this.disabling.delete(id));
  }

  /** The provider's histogram children, looked up once. */
  private histograms(provider: ProviderName): ProviderHistograms {
    let h = this.providerHistograms.get(provider);
    if (!h) {
      const { metrics } = this.deps;
      h = { upstream: metrics.upstreamLatency.labels(provider), overhead: metrics.overhead.labels(provider) };
      this.providerHistograms.set(provider, h);
    }
    return h;
  }
}
