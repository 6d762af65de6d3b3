// Build step after tsc: the files the compiled server serves as they are (the connect embed's
// script and stylesheet), copied next to the modules that read them, so dist/ runs on its own.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/connect-embed/assets/', import.meta.url), new URL('../dist/connect-embed/assets/', import.meta.url), {
  recursive: true,
});
