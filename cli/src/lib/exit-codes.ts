/** Documented exit codes (see `docs/cli.md`). Scripts may rely on them. */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** Unexpected error (a bug, or an internal error on the server). */
  error: 1,
  /** Bad usage: unknown flag, missing argument, or input the server rejected as invalid (400). */
  usage: 2,
  /** Not logged in, or the credential was rejected (401). */
  auth: 3,
  /** The credential may not do this (403): e.g. a secret key used for an admin command. */
  forbidden: 4,
  /** The thing named does not exist (404). */
  notFound: 5,
  /** Conflict with the current state (409), or the provider rejected a key (422). */
  conflict: 6,
  /** The server is unreachable, unavailable, rate limiting (429) or failing (5xx): try again. */
  unavailable: 7,
  /** The command ran, but what it checked failed: a webhook endpoint answered non-2xx, a key is invalid, rotation left rows behind. */
  failed: 8,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_DOCS: [number, string][] = [
  [EXIT.ok, 'Success.'],
  [EXIT.error, 'Unexpected error (a bug, or an internal error on the server; the request id is printed).'],
  [EXIT.usage, 'Bad usage: an unknown flag, a missing argument, or input the server rejected as invalid (HTTP 400).'],
  [EXIT.auth, 'Not logged in, or the credential was rejected (HTTP 401). Run `byo login` or set the environment variables.'],
  [EXIT.forbidden, 'The credential may not do this (HTTP 403), e.g. a secret key used for an admin command.'],
  [EXIT.notFound, 'Not found (HTTP 404).'],
  [EXIT.conflict, 'Conflict with the current state (HTTP 409), or the provider rejected a key (HTTP 422).'],
  [EXIT.unavailable, 'The server is unreachable, unavailable, rate limiting (HTTP 429) or failing (HTTP 5xx). Try again.'],
  [
    EXIT.failed,
    'The command ran but what it checked failed: `webhooks test` got a non-2xx answer, `keys validate` found the key invalid, `secrets rotate-master-key` left rows behind.',
  ],
  [EXIT.interrupted, 'Interrupted (Ctrl-C).'],
];
