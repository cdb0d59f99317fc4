/**
 * The least any ssh2 reverse tunnel does, for bench/tunnel's floor side: one ssh2 `Client` with
 * Node's default socket, `forwardIn` of the bastion's port, and each forwarded channel piped to the
 * local port and back. No status, probes, reconnects, timeouts or large reads. It reads the tunnel
 * app's GROWOFF_* variables and BENCH_CIPHER (the cipher the app negotiated), checks the bastion's
 * pinned host key, and prints the two lines bench/tunnel follows the app by.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(new URL('../../apps/tunnel/package.json', import.meta.url));
const { Client } = require('ssh2');

const env = process.env;
const [host, port] = env.GROWOFF_BASTION.split(':');
const fingerprint = (key) => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

const client = new Client();
client.on('ready', () => {
  client.forwardIn('localhost', Number(env.GROWOFF_TUNNEL_REMOTE_PORT), (error) => {
    if (error) throw error;
    console.log(`[tunnel] connected to the bastion ${host}:${port}: cipher ${env.BENCH_CIPHER}, as asked`);
    console.log('[tunnel] status open');
  });
});
client.on('tcp connection', (_details, accept) => {
  const channel = accept();
  const socket = net.connect({
    host: env.GROWOFF_TUNNEL_LOCAL_HOST,
    port: Number(env.GROWOFF_TUNNEL_LOCAL_PORT),
  });
  socket.setNoDelay(true);
  channel.pipe(socket);
  socket.pipe(channel);
  socket.on('error', () => channel.destroy());
  channel.on('close', () => socket.destroy());
});
client.on('error', (error) => {
  console.error(`ssh2 floor: ${error.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  client.end();
  process.exit(0);
});
client.connect({
  host,
  port: Number(port),
  username: env.GROWOFF_BASTION_USER,
  privateKey: readFileSync(env.GROWOFF_TUNNEL_KEY),
  hostVerifier: (key) => fingerprint(key) === env.GROWOFF_BASTION_HOSTKEY,
  algorithms: { cipher: [env.BENCH_CIPHER] },
});
