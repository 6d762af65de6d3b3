/** The model a Bedrock runtime path names (`/model/{modelId}/converse`), decoded; its answers do not always name it. */
export function bedrockModel(subPath: string): string | null {
  const m = /^\/model\/([^/]+)\//.exec(subPath);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1] as string).slice(0, 200);
  } catch {
    return null;
  }
}
