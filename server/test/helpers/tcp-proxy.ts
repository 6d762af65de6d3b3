import net from 'node:net';

export type FaultMode = 'pass' | 'refuse' | 'reset' | 'stall';

export interface TcpProxy {
  port: number;
  url(database?: string): string;
  /**
   * `pass`: forward bytes. `reset`: destroy every open connection and refuse new ones (a
   * crashed or restarted database). `refuse`: refuse new connections, keep open ones.
   * `stall`: keep every socket open but forward nothing and accept without forwarding (a
   * network partition: packets vanish, nothing says so).
   */
  set(mode: FaultMode): void;
  readonly mode: FaultMode;
  readonly connections: number;
  close(): Promise<void>;
}

/** A node:net proxy on 127.0.0.1 in front of another local TCP service, for fault injection. */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: FaultMode = 'pass';
  interface Pair {
    client: net.Socket;
    upstream: net.Socket;
    /** Bytes held back while stalled, delivered when the partition heals (as TCP would retransmit them). */
    held: { to: net.Socket; data: Buffer }[];
  }
  const pairs = new Set<Pair>();

  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (mode === 'refuse' || mode === 'reset') {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: targetHost, port: targetPort });
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (mode === 'stall') pair.held.push({ to: upstream, data: d });
      else upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (mode === 'stall') pair.held.push({ to: client, data: d });
      else client.write(d);
    });
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: (database = 'test') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    get mode() {
      return mode;
    },
    get connections() {
      return pairs.size;
    },
    set(next) {
      mode = next;
      if (next === 'reset') {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        pairs.clear();
      }
      if (next === 'pass')
        for (const p of pairs) {
          for (const h of p.held.splice(0)) if (!h.to.destroyed) h.to.write(h.data);
        }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
