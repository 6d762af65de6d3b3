/** Display helpers: numbers, dates and money as an operator reads them. */
const int = new Intl.NumberFormat('en-US');
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });

export const fmtInt = (n: number) => int.format(n);
export const fmtUsd = (n: number | null | undefined) => (n === null || n === undefined ? '—' : usd.format(n));
export const fmtPct = (n: number) => `${(n * 100).toFixed(n < 0.01 && n > 0 ? 2 : 1)}%`;
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
