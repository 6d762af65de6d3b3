/**
 * The model ids in a provider's model listing, as its validation probe returns it: OpenAI and
 * every OpenAI-compatible API, Anthropic and Azure answer `{ data: [{ id }] }`, Gemini
 * `{ models: [{ name: "models/..." }] }`. Anything else (a probe that is not a listing, such as
 * OpenRouter's `/key` or Perplexity's refused chat call) is null: unknown, not "no models".
 * Sorted and deduplicated, so two listings compare as sets; bounded, since the body comes
 * from a server a customer may have chosen.
 */

export const MAX_MODELS = 2000;
const MAX_ID = 200;

export function modelIds(body: unknown): string[] | null {
  if (!body || typeof body !== 'object') return null;
  const { data, models } = body as { data?: unknown; models?: unknown };
  const entries = Array.isArray(data) ? data : Array.isArray(models) ? models : null;
  if (!entries) return null;
  const ids = new Set<string>();
  for (const m of entries) {
    if (!m || typeof m !== 'object') continue;
    const { id, name } = m as { id?: unknown; name?: unknown };
    const raw = typeof id === 'string' ? id : typeof name === 'string' ? name : null;
    if (!raw) continue;
    const clean = raw.replace(/^models\//, '');
    if (clean && clean.length <= MAX_ID) ids.add(clean);
    if (ids.size >= MAX_MODELS) break;
  }
  return [...ids].sort();
}

/** Models in `next` and not in `prev`, and the other way round (both sorted lists). */
export function modelChanges(prev: readonly string[], next: readonly string[]): { added: string[]; removed: string[] } {
  const before = new Set(prev);
  const after = new Set(next);
  return { added: next.filter((m) => !before.has(m)), removed: prev.filter((m) => !after.has(m)) };
}
