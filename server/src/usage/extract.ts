import type { UsageCounts, UsageTap } from './accumulator.js';
import { EventStreamUsageTap } from './event-stream-tap.js';
import { JsonUsageTap } from './json-tap.js';
import { SseUsageTap } from './sse-tap.js';

/**
 * Reads the model and token counts out of a response as its bytes pass through, without
 * altering or holding up the body.
 *
 * - JSON bodies are not parsed, nor kept whole: only their last 16 KiB are, where the
 *   top-level `usage` object is found (the providers put it last) and parsed alone; the model
 *   is found by a byte search too (see JsonUsageTap).
 * - SSE streams are split into lines incrementally; only `data:` lines that can hold a usage
 *   object (or the model, until it is known) are parsed. Usage objects are merged field by
 *   field, later values winning, which gives the final counts for every provider: OpenAI's
 *   last chunk, Anthropic's `message_start` + `message_delta`, Gemini's cumulative
 *   `usageMetadata`, the Responses API's `response.completed`.
 */

export { JsonUsageTap, SseUsageTap };
export type { UsageCounts, UsageTap };

/** Picks the tap for a response's content type; `null` when there is nothing to read. */
export function usageTapFor(contentType: string | undefined, contentEncoding: string | undefined): UsageTap | null {
  if (!contentType || (contentEncoding && contentEncoding !== 'identity')) return null;
  const ct = contentType.toLowerCase();
  if (ct.startsWith('text/event-stream')) return new SseUsageTap();
  if (ct.includes('json')) return new JsonUsageTap();
  if (ct.startsWith('application/vnd.amazon.eventstream')) return new EventStreamUsageTap();
  return null;
}

/**
 * The counts of a stream the client cancelled (or that broke) before the provider sent its
 * final usage: the provider still bills what it generated. Output is then at least one token
 * per `data:` event seen (a content event carries about one token; the few framing events
 * make this a slight overestimate), so a cut stream is never costed at $0 when it streamed.
 * Input the provider did not report stays unknown here (the limits' reservation covers it).
 */
export function cutStreamCounts(u: UsageCounts, tap: UsageTap): UsageCounts {
  const events = tap.events ?? 0;
  if (events === 0 || (u.outputTokens ?? 0) >= events) return u;
  const outputTokens = events;
  return { ...u, outputTokens, totalTokens: (u.inputTokens ?? 0) + outputTokens };
}
