import { BYOError } from '../errors.js';

/** Opaque keyset cursor for lists ordered by (created_at, id) descending. */
export function encodeCursor(t: Date, id: string): string {
  return Buffer.from(JSON.stringify([t.toISOString(), id])).toString('base64url');
}

export function decodeCursor(c: string): { t: Date; id: string } {
  try {
    const [t, id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as [string, string];
    const d = new Date(t);
    if (typeof id !== 'string' || Number.isNaN(d.getTime())) throw new Error('bad');
    return { t: d, id };
  } catch {
    throw new BYOError('validation_failed', 'cursor is not a cursor this API returned.');
  }
}
