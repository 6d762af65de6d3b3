import type { LimitWindow } from './types.js';

/** The window containing `now` (epoch ms): fixed UTC minutes and hours, UTC calendar days and months. */
export function windowOf(window: LimitWindow, now: number): { start: number; end: number } {
  switch (window) {
    case 'minute': {
      const start = now - (now % 60_000);
      return { start, end: start + 60_000 };
    }
    case 'hour': {
      const start = now - (now % 3_600_000);
      return { start, end: start + 3_600_000 };
    }
    case 'day': {
      const start = now - (now % 86_400_000);
      return { start, end: start + 86_400_000 };
    }
    case 'month': {
      const d = new Date(now);
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      return { start, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
    }
  }
}
