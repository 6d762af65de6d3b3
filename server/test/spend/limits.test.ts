import { limitsSuite } from './limits-suite.js';

// Counters in the database: PGlite, or PostgreSQL when DATABASE_URL is set.
limitsSuite('spend limits, counters in the database', () => ({}));
