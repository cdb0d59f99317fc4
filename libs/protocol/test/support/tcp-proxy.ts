import net from 'node:net';
import { freePort } from '@growoff/test-services';

/**
 * A loopback TCP relay in front of the real broker, so a test can cut a client's connection
 * (the broker sees it drop, as with a pulled cable) or freeze it (bytes stop flowing both ways,
 * as with a broker that died without closing its sockets).
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** On a free port, or on `port` again after an earlier proxy there was closed. */
  static async start(target: { host: string; port: number }, port?: number): Promise<TcpProxy> {
    port ??= await freePort();
    const server = net.createServer();
    const proxy = new TcpProxy(server, port);
    server.on('connection', (client) => proxy.relay(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return proxy;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Drops every relayed connection at once, both sides. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** From now on nothing flows and no new connection gets through; sockets stay open. */
  freeze(): void {
    this.frozen = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, target: { host: string; port: number }): void {
    this.sockets.add(client);
    if (this.frozen) return;
    const upstream = net.connect(target.port, target.host);
    this.sockets.add(upstream);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!this.frozen) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', drop).on('error', drop);
    upstream.on('close', drop).on('error', drop);
  }
}
