// Writes server/openapi.json from the router; byo-sdk and byo-connect generate their types from it.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { appRouter } from '../src/trpc/router.js';

const out = fileURLToPath(new URL('../openapi.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(buildOpenApiDocument(appRouter), null, 2)}\n`);
console.log(`wrote ${out}`);
