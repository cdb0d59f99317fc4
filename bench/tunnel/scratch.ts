/**
 * Tunnel benchmark, all on loopback against a private OpenSSH bastion set up by tools/bastion:
 * - throughput through the tunnel app's reverse forward (ssh2) versus OpenSSH's own `ssh -R` with
 *   the same key, bastion and port, in the same run (ratio);
 * - time to notice a dead link (the bastion's session process frozen: no RST, no answers) with the
 *   production keepalive settings, and time to be back once the stale session is gone;
 * - time to be back after the bastion's sshd is killed and restarted.
 * Run from the repository root: pnpm exec tsx bench/tunnel/run.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import {
  freePort,
  portAnswers,
  startSshd,
  stopProcess,
  waitUntil,
  type SshdInfo,
} from '@growoff/test-services';
import { TunnelSupervisor, type TunnelSnapshot } from '../../apps/tunnel/src/tunnel-supervisor';
import { loginArgs, withReverseForward } from '../../apps/tunnel/test/support';
import { benchResult } from '../result';

const SCRIPT = resolve(import.meta.dirname, '../../tools/bastion/growoff-bastion.sh');
const PAYLOAD_BYTES = 64 * 1024 * 1024;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

const dir = mkdtempSync(join(tmpdir(), 'growoff-bench-tunnel-'));
const user = userInfo().username;
const moduleKey = join(dir, 'module_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', moduleKey]);
const extraConfig = execFileSync(SCRIPT, ['sshd-config', '--user', user], { encoding: 'utf8' });
let sshd: SshdInfo = await startSshd({ dir, port: await freePort(), extraConfig });
const remotePort = await freePort();
execFileSync(SCRIPT, [
  'add-key',
  '--authorized-keys',
  sshd.authorizedKeys,
  '--module',
  'bench',
  '--port',
  String(remotePort),
  '--public-key',
  `${moduleKey}.pub`,
]);

// The module's port: a sink that answers one byte once it has the whole payload.
const sink = net.createServer((socket) => {
  let received = 0;
  socket.on('data', (chunk) => {
    received += chunk.length;
    if (received >= PAYLOAD_BYTES) socket.end('!');
  });
  socket.on('error', () => undefined);
});
await new Promise<void>((done) => sink.listen(0, '127.0.0.1', done));
const sinkPort = (sink.address() as net.AddressInfo).port;

/** Sends the payload to the bastion's end of the forward; MB/s until the sink confirms. */
function transfer(): Promise<number> {
  return new Promise((done, fail) => {
    const chunk = Buffer.alloc(256 * 1024, 0x5a);
    const socket = net.connect({ host: '127.0.0.1', port: remotePort });
    const started = process.hrtime.bigint();
    let sent = 0;
    const pump = () => {
      while (sent < PAYLOAD_BYTES) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.once('connect', pump);
    socket.once('data', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      socket.destroy();
      done(PAYLOAD_BYTES / 1024 / 1024 / seconds);
    });
    socket.once('error', fail);
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function statusWhere(
  s: TunnelSupervisor,
  predicate: (x: TunnelSnapshot) => boolean,
): Promise<TunnelSnapshot> {
  if (predicate(s.snapshot)) return Promise.resolve(s.snapshot);
  return new Promise((done) => {
    const on = (x: TunnelSnapshot) => {
      if (predicate(x)) {
        s.off('status', on);
        done(x);
      }
    };
    s.on('status', on);
  });
}

function sessionsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  }
}

// Production settings (config defaults), probe off so that only keepalives detect the dead link.
const supervisor = new TunnelSupervisor({
  session: {
    host: '127.0.0.1',
    port: sshd.port,
    username: user,
    privateKey: readFileSync(moduleKey),
    hostKeyFingerprints: [sshd.hostKeyFingerprint],
    keepaliveIntervalMs: 8000,
    keepaliveCountMax: 2,
    connectTimeoutMs: 20_000,
    localHost: '127.0.0.1',
    localPort: sinkPort,
  },
  remotePort,
  maxTtlS: 3600,
  alwaysOn: false,
  probeIntervalMs: 0,
  probeTimeoutMs: 10_000,
  probeFailuresMax: 3,
  backoffMinMs: 1000,
  backoffMaxMs: 60_000,
  portBusyRetries: 5,
});

console.log(
  `tunnel bench: ${PAYLOAD_BYTES / 1024 / 1024} MiB per transfer, ${ROUNDS} rounds each, loopback, OpenSSH bastion`,
);

const ours: number[] = [];
const openssh: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  supervisor.open(600, 'bench');
  await statusWhere(supervisor, (x) => x.tunnel === 'open');
  ours.push(await transfer());
  await supervisor.close('bench round done');

  if (!process.env.NO_SSH) await withReverseForward(loginArgs(sshd.port, moduleKey, user), remotePort, sinkPort, async () => {
    openssh.push(await transfer());
  });
  await waitUntil('port free', async () => !(await portAnswers(remotePort)), 10_000);
}
const fmt = (v: number) => v.toFixed(1);
console.log(
  `throughput tunnel app (ssh2 forwardIn): ${ours.map(fmt).join(', ')} MiB/s, median ${fmt(median(ours))}`,
);
console.log(
  `throughput OpenSSH ssh -R (baseline):   ${openssh.map(fmt).join(', ')} MiB/s, median ${fmt(median(openssh))}`,
);
console.log(`ratio tunnel / ssh -R: ${(median(ours) / median(openssh)).toFixed(2)}`);

await supervisor.shutdown();
await stopProcess(sshd.pid);
sink.close();

process.exit(0);
