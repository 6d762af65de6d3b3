/**
 * Prefixes that are the same for every key of a provider (longest first): showing one tells
 * nothing about the key, so a hint shows it whole.
 */
const KNOWN_PREFIXES = [
  'sk-svcacct-',
  'sk-or-v1-',
  'sk-admin-',
  'sk-proj-',
  'sk-ant-',
  'nvapi-',
  'pplx-',
  'AIza',
  'gsk_',
  'xai-',
  'sk-',
  'hf_',
  'r8_',
] as const;

/** Characters of the key's end a hint shows at most. */
const MAX_TAIL = 4;

/**
 * `sk-...abcd`: enough for a person to recognise the key, too little to use it. Shows a
 * well-known provider prefix (nothing else of the start), then at most 4 of the last
 * characters: never more than a quarter of the key, nor a third of what follows the prefix.
 * `vllm-k3y9` is `...y9`, an 8-character password `...rd`, `sk-proj-12` only `sk-proj-...`.
 */
export function providerKeyHint(key: string): string {
  const prefix = KNOWN_PREFIXES.find((p) => key.startsWith(p)) ?? '';
  const tail = Math.min(MAX_TAIL, Math.floor(key.length / 4), Math.floor((key.length - prefix.length) / 3));
  return `${prefix}...${tail > 0 ? key.slice(-tail) : ''}`;
}
