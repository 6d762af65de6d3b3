import { randomBytes } from 'node:crypto';
import { limitsSuite } from './limits-suite.js';

// Counters in Redis (REDIS_URL), the same behaviour; a fresh key prefix per run.
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
limitsSuite('spend limits, counters in Redis', () => ({ REDIS_URL: url, BYO_REDIS_PREFIX: `t_${randomBytes(6).toString('hex')}` }));
