/** `24h`, `30m`, `90s`, `7d`, `0` → seconds. */
export function parseDurationSeconds(value: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a duration: use a number with s, m, h or d, e.g. 24h or 30m (0 means at once)`);
  const n = Number(m[1]);
  const mult = { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return n * mult;
}

export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
