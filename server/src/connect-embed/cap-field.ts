import { z } from 'zod';
import { escapeHtml } from './html.js';

/**
 * The form's optional "Spending cap" field: the key owner's own cap ("at most $50 a month
 * through this app"), sent as `limits: [{ metric: 'cost_usd', window, max }]` with the connect;
 * empty sends none. The integrator may turn it off (`spendingCap=off`) or preset an amount and a
 * window (`spendingCap=50&spendingCapWindow=day`); the customer may still change or clear a preset,
 * since the cap is their consent, not the app's.
 */

export const CAP_WINDOWS = ['month', 'day'] as const;
export type CapWindow = (typeof CAP_WINDOWS)[number];

/** `off`, or a preset amount in USD (above 0, at most cents). */
export const CapParam = z
  .string()
  .regex(/^(?:off|\d{1,12}(?:\.\d{1,2})?)$/, 'use off or an amount in USD such as 50')
  .refine((v) => v === 'off' || Number(v) > 0, 'the amount must be above 0');
export const CapWindowParam = z.enum(CAP_WINDOWS);

export interface CapOption {
  /** false: the field is not shown and no cap is sent. */
  enabled: boolean;
  /** The preset amount, as given; empty: none. */
  preset: string;
  window: CapWindow;
}

export function capOption(spendingCap: string | undefined, window: CapWindow | undefined): CapOption {
  return { enabled: spendingCap !== 'off', preset: spendingCap && spendingCap !== 'off' ? spendingCap : '', window: window ?? 'month' };
}

const WINDOW_LABELS: Record<CapWindow, string> = { month: 'per month', day: 'per day' };

export function renderCapField(cap: CapOption): string {
  if (!cap.enabled) return '';
  const options = CAP_WINDOWS.map((w) => `<option value="${w}"${w === cap.window ? ' selected' : ''}>${WINDOW_LABELS[w]}</option>`).join(
    '',
  );
  const value = cap.preset ? ` value="${escapeHtml(cap.preset)}"` : '';
  return `<div class="field cap">
      <label for="byo-cap-max">Spending cap <span class="optional">(optional)</span></label>
      <div class="cap-row">
        <span class="currency" aria-hidden="true">$</span>
        <input id="byo-cap-max" type="number" inputmode="decimal" min="0.01" step="0.01" placeholder="No cap" aria-describedby="byo-cap-hint"${value}>
        <select id="byo-cap-window" aria-label="Spending cap period">${options}</select>
      </div>
      <p id="byo-cap-hint" class="hint">The most this app may spend through your key, in US dollars. Leave it empty for no cap.</p>
    </div>`;
}
