import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Client, ClientChannel, TcpConnectionDetails } from 'ssh2';
import { matchesPinnedFingerprint, opensshFingerprint } from './host-key';
import { sshAlgorithms } from './ssh-algorithms';
import { TunnelError } from './tunnel-error';

export interface BastionSessionOptions {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer;
  /** The pinned host keys (`SHA256:…`); the bastion must present one of them. */
  hostKeyFingerprints: readonly string[];
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  connectTimeoutMs: number;
  /** Where forwarded connections are sent on this side. */
  localHost: string;
  localPort: number;
}

/** The bastion listens on its loopback only; the module key's permitlisten names `localhost`. */
export const BIND_ADDRESS = 'localhost';
/** What the bastion's probe sends first through the forward, and what this side answers. */
export const PROBE_GREETING = 'GROWOFF-PROBE';
export const PROBE_ANSWER = 'GROWOFF-PROBE-OK';
/**
 * How long a forwarded connection may stay silent before it is passed on without the probe check:
 * short normally (SSH clients speak first anyway), longer while a probe is out, whose greeting may
 * come late from a busy bastion.
 */
const FIRST_BYTES_WAIT_MS = 250;
const FIRST_BYTES_WAIT_PROBING_MS = 5000;

/** The bastion's connection is read into slabs of this size, each read taking what is left of one. */
const READ_SLAB_BYTES = 256 * 1024;
/** A new slab is started when less than this is left of the current one (Node's own read size). */
const READ_MIN_BYTES = 64 * 1024;

/**
 * A connection to the bastion whose reads take up to what is left of a 256 KiB slab, not Node's
 * fixed 64 KiB: under load the bastion's packets then come in a few large reads, as OpenSSH reads
 * them (one read syscall, one wake-up and one trip into ssh2 for several packets, and fewer packets
 * split across two reads, which ssh2 must copy whole), not about one read per packet. ssh2 decrypts
 * in place and passes views of the read on, so each read gets memory of its own: a slab is never
 * reused, only left to the garbage collector with its last view.
 */
function connectWithLargeReads(host: string, port: number): net.Socket {
  let slab = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
  let used = 0;
  const socket: net.Socket = net.connect({
    host,
    port,
    onread: {
      buffer: () => {
        if (slab.length - used < READ_MIN_BYTES) {
          slab = Buffer.allocUnsafeSlow(READ_SLAB_BYTES);
          used = 0;
        }
        return slab.subarray(used);
      },
      // A socket with onread emits no 'data' by itself; pushed, each read reaches ssh2's 'data'
      // listener as before, held while ssh2 has the socket paused (false stops the reads meanwhile).
      callback: (bytes: number, buffer: Uint8Array) => {
        used += bytes;
        return socket.push(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
      },
    },
  });
  return socket;
}

/** Whether ssh2's optional native crypto binding (lib/protocol/crypto/build) was built and loads. */
async function ssh2NativeCrypto(): Promise<boolean> {
  try {
    const { default: crypto } = await import('ssh2/lib/protocol/crypto.js');
    return crypto.bindingAvailable === true;
  } catch {
    return false;
  }
}

export interface BastionSessionEvents {
  closed: [error: TunnelError | undefined];
}

/**
 * One SSH connection to the bastion holding one reverse forward. It never reconnects; the
 * supervisor makes a new one. `closed` is emitted once, with the error that ended it if any.
 */
export class BastionSession extends EventEmitter<BastionSessionEvents> {
  private boundPort: number | undefined;
  private lastError: TunnelError | undefined;
  private ended = false;
  private readonly probeNonces = new Set<string>();
  private readonly sockets = new Set<net.Socket>();
  private readonly relays = new Set<{ channel: ClientChannel; socket: net.Socket }>();
  /** The cipher the bastion's data comes in with, and whether ssh2 runs it in its native binding. */
  transport: { cipher: string; nativeCrypto: boolean } = { cipher: 'none', nativeCrypto: false };

  private constructor(
    private readonly client: Client,
    private readonly options: BastionSessionOptions,
  ) {
    super();
  }

  /** Connects and authenticates; rejects with a coded error (host key mismatch first of all). */
  static async connect(options: BastionSessionOptions): Promise<BastionSession> {
    // Loaded at the first tunnel, not at start: most of a module's life no tunnel is open, and ssh2
    // is several MB of memory. It is CommonJS: Node's ESM loader sees only its default export.
    const { default: ssh2 } = await import('ssh2');
    const nativeCrypto = await ssh2NativeCrypto();
    const client = new ssh2.Client();
    const session = new BastionSession(client, options);
    client.once('handshake', (negotiated) => {
      session.transport = { cipher: negotiated.sc.cipher, nativeCrypto };
    });
    return new Promise((resolve, reject) => {
      let hostKeyMismatch: string | undefined;
      let settled = false;
      const fail = (error: TunnelError) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(error);
      };
      client.once('ready', () => {
        settled = true;
        const { cipher, nativeCrypto: native } = session.transport;
        console.log(
          `[tunnel] connected to the bastion ${options.host}:${options.port}: cipher ${cipher}, ${native ? "ssh2's native crypto" : "Node's crypto (ssh2's native binding is not built here: slower)"}`,
        );
        session.watch();
        resolve(session);
      });
      client.on('error', (error: Error & { level?: string }) => {
        if (!settled) {
          if (hostKeyMismatch !== undefined) {
            fail(
              new TunnelError(
                'TUNNEL_HOSTKEY_MISMATCH',
                `the bastion ${options.host}:${options.port} presented host key ${hostKeyMismatch}, not ${options.hostKeyFingerprints.length === 1 ? 'the pinned' : 'any of the pinned'} ${options.hostKeyFingerprints.join(', ')} (GROWOFF_BASTION_HOSTKEY); refusing to connect`,
                { presented: hostKeyMismatch, pinned: [...options.hostKeyFingerprints] },
              ),
            );
          } else if (error.level === 'client-authentication') {
            fail(
              new TunnelError(
                'TUNNEL_AUTH_REFUSED',
                `the bastion refused the module key for user ${options.username} (is it in authorized_keys?)`,
              ),
            );
          } else {
            fail(
              new TunnelError(
                'TUNNEL_CONNECT_FAILED',
                `cannot reach the bastion ${options.host}:${options.port}: ${error.message}`,
              ),
            );
          }
          return;
        }
        session.lastError ??=
          error.level === 'client-timeout'
            ? new TunnelError(
                'TUNNEL_LINK_DEAD',
                `the bastion stopped answering keepalives (${error.message})`,
              )
            : new TunnelError('TUNNEL_SESSION_CLOSED', `the SSH session failed: ${error.message}`);
      });
      client.once('close', () => {
        fail(
          new TunnelError(
            'TUNNEL_CONNECT_FAILED',
            `the bastion ${options.host}:${options.port} closed the connection during login`,
          ),
        );
      });
      client.connect({
        sock: connectWithLargeReads(options.host, options.port),
        username: options.username,
        privateKey: options.privateKey,
        readyTimeout: options.connectTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs,
        keepaliveCountMax: options.keepaliveCountMax,
        algorithms: sshAlgorithms(),
        hostVerifier: (key: Buffer) => {
          if (matchesPinnedFingerprint(key, options.hostKeyFingerprints)) return true;
          hostKeyMismatch = opensshFingerprint(key);
          return false;
        },
      });
    });
  }

  get remotePort(): number | undefined {
    return this.boundPort;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Asks the bastion to listen on its loopback `remotePort` and send connections here. */
  forward(remotePort: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.forwardIn(BIND_ADDRESS, remotePort, (error, port) => {
        if (error) {
          reject(
            new TunnelError(
              'TUNNEL_REMOTE_PORT_BUSY',
              `the bastion refused to listen on ${BIND_ADDRESS}:${remotePort}: the port is still held by an earlier session, or the key does not permit it`,
              { remotePort },
            ),
          );
          return;
        }
        this.boundPort = port || remotePort;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops the bastion listening; the session itself stays up. */
  cancelForward(): Promise<void> {
    const port = this.boundPort;
    if (port === undefined || this.ended) return Promise.resolve();
    this.boundPort = undefined;
    return new Promise((resolve) => {
      this.client.unforwardIn(BIND_ADDRESS, port, () => resolve());
    });
  }

  /**
   * Asks the bastion (the key's forced command) to connect to its end of the forward and send a
   * nonce; it must come back through this session and be answered here.
   */
  probe(timeoutMs: number): Promise<void> {
    const nonce = randomBytes(16).toString('hex');
    this.probeNonces.add(nonce);
    return new Promise<void>((resolve, reject) => {
      let output = '';
      let channel: ClientChannel | undefined;
      const finish = (error?: TunnelError) => {
        clearTimeout(timer);
        this.probeNonces.delete(nonce);
        channel?.close();
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () =>
          finish(
            new TunnelError(
              'TUNNEL_PROBE_FAILED',
              `the probe through the bastion got no answer within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      this.client.exec(`growoff-probe ${nonce}`, (error, stream) => {
        if (error) {
          finish(
            new TunnelError('TUNNEL_PROBE_FAILED', `the bastion would not run the probe: ${error.message}`),
          );
          return;
        }
        channel = stream;
        stream.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (output.includes(`${PROBE_ANSWER} ${nonce}`)) finish();
        });
        stream.stderr.resume();
        stream.once('close', () => {
          if (!this.probeNonces.has(nonce)) return;
          const said = output.trim().split('\n').pop() ?? '';
          finish(
            new TunnelError(
              'TUNNEL_PROBE_FAILED',
              `the probe did not come back through this session${said ? `: ${said}` : ''}`,
            ),
          );
        });
      });
    });
  }

  /**
   * For each forwarded connection being relayed: the bytes held here on their way to the local
   * service, and the SSH window still granted to the bastion for more (ssh2 keeps it in
   * `incoming.window`). Their sum bounds this side's memory for a slow local service.
   */
  relayed(): { held: number; window: number }[] {
    return [...this.relays].map(({ channel, socket }) => ({
      held: channel.readableLength + socket.writableLength,
      window: (channel as unknown as { incoming: { window: number } }).incoming.window,
    }));
  }

  /** Ends the session (cancelling the forward first when the link still works). */
  async close(): Promise<void> {
    if (this.ended) return;
    const closed = new Promise<void>((resolve) => this.once('closed', () => resolve()));
    await Promise.race([this.cancelForward(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    this.client.end();
    const fallback = setTimeout(() => this.client.destroy(), 2000);
    await closed;
    clearTimeout(fallback);
  }

  private watch(): void {
    this.client.on('tcp connection', (details, accept, reject) => this.onForwarded(details, accept, reject));
    this.client.once('close', () => {
      this.ended = true;
      this.boundPort = undefined;
      for (const socket of this.sockets) socket.destroy();
      this.emit('closed', this.lastError);
    });
  }

  private onForwarded(details: TcpConnectionDetails, accept: () => ClientChannel, reject: () => void): void {
    if (this.boundPort === undefined || details.destPort !== this.boundPort) {
      reject();
      return;
    }
    const channel = accept();
    let decided = false;
    const decide = (first: Buffer | undefined) => {
      if (decided) return;
      decided = true;
      clearTimeout(wait);
      channel.pause();
      const greeting = first
        ?.toString('latin1')
        .match(new RegExp(`^${PROBE_GREETING} ([A-Za-z0-9]{16,64})\\n`));
      if (greeting?.[1] && this.probeNonces.has(greeting[1])) {
        channel.end(`${PROBE_ANSWER} ${greeting[1]}\n`);
        return;
      }
      this.relay(channel, first);
    };
    const wait = setTimeout(
      () => decide(undefined),
      this.probeNonces.size > 0 ? FIRST_BYTES_WAIT_PROBING_MS : FIRST_BYTES_WAIT_MS,
    );
    channel.once('data', (chunk: Buffer) => decide(chunk));
    channel.once('close', () => {
      decided = true;
      clearTimeout(wait);
    });
  }

  private relay(channel: ClientChannel, first: Buffer | undefined): void {
    // Each packet goes to the local socket in a write of its own, with Node's default high-water
    // mark (16 KiB), on purpose: corked behind a mark of one read (256 KiB, tried) the packets of a
    // read left in one writev, but their buffers lived long enough to reach V8's old generation
    // under the image's 1 MiB semi-spaces, and the major GCs cost more than the writes saved.
    const socket = net.connect({ host: this.options.localHost, port: this.options.localPort });
    const relay = { channel, socket };
    this.relays.add(relay);
    this.sockets.add(socket);
    socket.setNoDelay(true);
    if (first) socket.write(first);
    channel.pipe(socket).on('error', () => channel.destroy());
    socket.pipe(channel);
    socket.once('error', () => channel.destroy());
    socket.once('close', () => {
      this.sockets.delete(socket);
      channel.end();
    });
    channel.once('close', () => {
      this.relays.delete(relay);
      socket.destroy();
    });
  }
}
