/** Display helpers: numbers, dates and money as an operator reads them. */
const int = new Intl.NumberFormat('en-US');
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
/** Small sums (a few calls) keep their cents' fractions, so they do not read as $0.00. */
const usdSmall = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 5 });

export const fmtInt = (n: number) => int.format(n);
export const fmtUsd = (n: number | null | undefined) =>
  n === null || n === undefined ? '—' : n > 0 && n < 1 ? usdSmall.format(n) : usd.format(n);
export const fmtPct = (n: number) => `${(n * 100).toFixed(n < 0.01 && n > 0 ? 2 : 1)}%`;
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
