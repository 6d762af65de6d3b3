import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { WebhookEventSchema } from '../../src/schemas/events.js';

/** One request as the receiver saw it: the raw body bytes, exactly as they arrived. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  body: { id: string; type: string; createdAt: string; mode: string; data: Record<string, unknown> };
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A real HTTP receiver on 127.0.0.1 (a customer's webhook endpoint). `respond` decides each
 * answer; by default 200 "ok". It can be stopped and started again on the same port.
 */
export class Receiver {
  readonly received: Received[] = [];
  respond: (r: Received, n: number) => Reply | Promise<Reply> = () => ({ status: 200, body: 'ok' });
  private server: Server | null = null;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const rawBody = Buffer.concat(chunks);
        let body: Received['body'];
        try {
          body = JSON.parse(rawBody.toString('utf8'));
        } catch {
          body = { id: '', type: '', createdAt: '', mode: '', data: {} };
        }
        const r: Received = { path: req.url ?? '/', headers: req.headers, rawBody, body, at: Date.now() };
        this.received.push(r);
        const reply = await this.respond(r, this.received.length);
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '');
      });
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  forEvent(eventId: string): Received[] {
    return this.received.filter((r) => r.body.id === eventId);
  }

  ofType(type: string): Received[] {
    return this.received.filter((r) => r.body.type === type);
  }

  async waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what} (received ${this.received.length})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The Node snippet published in docs/webhooks.md, verbatim in spirit. */
export function verifyWithNodeSnippet(secret: string, rawBody: Buffer, signatureHeader: string | string[] | undefined): boolean {
  if (typeof signatureHeader !== 'string') return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(rawBody).digest('hex'));
  return signatureHeader.split(',').some((sig) => {
    const got = Buffer.from(sig.trim());
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/** Standard Webhooks reference library; returns the parsed payload or throws. */
export function verifyWithStandardWebhooks(secret: string, r: Pick<Received, 'rawBody' | 'headers'>): unknown {
  return new Webhook(secret).verify(r.rawBody.toString('utf8'), r.headers as Record<string, string>);
}

/**
 * A delivered body against its event's schema (src/schemas/events.ts, what the OpenAPI document
 * and the SDK say): valid, and no field the schema lacks (zod drops unknown keys, so the parse
 * would differ from the body).
 */
export function expectEventSchema(r: Pick<Received, 'body'>): void {
  const parsed = WebhookEventSchema.safeParse(r.body);
  expect(parsed.error?.issues ?? [], `${r.body.type}: ${JSON.stringify(r.body)}`).toEqual([]);
  expect(parsed.data, r.body.type).toStrictEqual(r.body);
}

export function bothValid(secret: string, r: Received): boolean {
  if (!verifyWithNodeSnippet(secret, r.rawBody, r.headers['x-byo-signature'])) return false;
  try {
    verifyWithStandardWebhooks(secret, r);
    return true;
  } catch {
    return false;
  }
}
