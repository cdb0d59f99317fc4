/**
 * Tunnel benchmark, all on loopback against a private OpenSSH bastion set up by tools/bastion. The
 * tunnel is the built app (apps/tunnel/dist/main.js, so `pnpm nx run tunnel:build` first) run as a
 * module runs it: its own process, with the image's node flags (docker/app/Dockerfile), its
 * production defaults, always on, probe off so that only keepalives detect a dead link; the bench
 * follows it by the status lines it prints.
 * - throughput through the tunnel app's reverse forward (ssh2) versus OpenSSH's own `ssh -R` with
 *   the same key, bastion, port and cipher (the one the app negotiated), in the same run (ratio);
 *   each a process of its own beside the bench's sender and sink. The bytes flow from the bench's
 *   sender into the bastion's forwarded port, through sshd (which encrypts them) to the forwarder
 *   (which decrypts them) and on to the bench's sink on the module's side; MiB/s is the payload
 *   over the time until the sink has all of it;
 *   beside them, for information, the least any ssh2 tunnel does (ssh2-floor.mjs: one ssh2 client,
 *   `forwardIn`, each channel piped to the local port) on the same cipher, the same way;
 * - time to notice a dead link (the bastion's session process frozen: no RST, no answers) with the
 *   production keepalive settings, and time to be back once the stale session is gone;
 * - time to be back after the bastion's sshd is killed and restarted.
 * Run from the repository root: pnpm exec tsx bench/tunnel/run.ts
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import {
  freePort,
  getService,
  portAnswers,
  startSshd,
  stopProcess,
  waitUntil,
  type SshdInfo,
} from '@growoff/test-services';
import { descendantsOf, loginArgs, signalAll, withReverseForward } from '../../apps/tunnel/test/support';
import { imageNodeEnv, imageNodeFlags } from '../image-flags';
import { benchResult, median } from '../result';

const SCRIPT = resolve(import.meta.dirname, '../../tools/bastion/growoff-bastion.sh');
const TUNNEL_MAIN = resolve(import.meta.dirname, '../../apps/tunnel/dist/main.js');
const SSH2_FLOOR = resolve(import.meta.dirname, 'ssh2-floor.mjs');
const PAYLOAD_BYTES = 64 * 1024 * 1024;
const ROUNDS = 3;

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

/** The fields of /proc/PID/stat after the command's name: [0] is the state, [1] the parent. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) a process has used, in ms (Linux clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The minor page faults a process has taken: each a fresh page the kernel zeroed and mapped. */
function minorFaults(pid: number): number {
  return Number(statFields(pid)[7]);
}

/**
 * What one minor page fault costs on this machine, in µs: writing fresh memory against writing it
 * again once mapped, median of three. On a virtual machine a fault can also cost an exit to the
 * hypervisor: the figure is the machine's, not a module's.
 */
function pageFaultUs(): number {
  const bytes = 32 * 1024 * 1024;
  const costs = [0, 1, 2].map(() => {
    const memory = Buffer.allocUnsafeSlow(bytes);
    let started = process.hrtime.bigint();
    memory.fill(1);
    const fresh = Number(process.hrtime.bigint() - started);
    started = process.hrtime.bigint();
    memory.fill(2);
    const mapped = Number(process.hrtime.bigint() - started);
    return (fresh - mapped) / 1000 / (bytes / 4096);
  });
  return median(costs);
}

/** The pid of this process's child running `command`. */
function childRunning(command: string): number {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const ppid = Number(statFields(Number(entry))[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command)
        return Number(entry);
    } catch {
      // gone
    }
  }
  throw new Error(`no child process running ${command}`);
}

interface Measured {
  mibPerS: number;
  /** CPU the forwarding process spent on each MiB. */
  cpuMsPerMib: number;
  /** Fresh pages the forwarding process took per MiB. */
  faultsPerMib: number;
}

/** The transfer's throughput, and what the forwarding process spent on each MiB of it. */
async function measured(forwarder: number): Promise<Measured> {
  const mib = PAYLOAD_BYTES / 1024 / 1024;
  const cpuBefore = cpuMs(forwarder);
  const faultsBefore = minorFaults(forwarder);
  const mibPerS = await transfer();
  return {
    mibPerS,
    cpuMsPerMib: (cpuMs(forwarder) - cpuBefore) / mib,
    faultsPerMib: (minorFaults(forwarder) - faultsBefore) / mib,
  };
}

const flags = imageNodeFlags();

/** The tunnel app as a module runs it; `status(pred)` resolves at the first status line matching. */
interface TunnelApp {
  child: ChildProcess;
  status: (predicate: (tunnel: string) => boolean) => Promise<string>;
  output: () => string;
  /** The cipher of the bastion's data, and whether ssh2 runs it natively, from its log line. */
  transport: () => { cipher: string; native: boolean } | undefined;
}

/** The tunnel app, or with `floor` the least any ssh2 tunnel does (ssh2-floor.mjs) on `floor.cipher`. */
function startTunnel(floor?: { cipher: string }): TunnelApp {
  const child = spawn(process.execPath, [...flags, floor ? SSH2_FLOOR : TUNNEL_MAIN], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ...imageNodeEnv('tunnel'),
      GROWOFF_MODULE_ID: `bench-tunnel-${process.pid}`,
      GROWOFF_MQTT_URL: getService('mosquitto').url,
      GROWOFF_DATA_DIR: join(dir, 'data'),
      GROWOFF_BASTION: `127.0.0.1:${sshd.port}`,
      GROWOFF_BASTION_USER: user,
      GROWOFF_BASTION_HOSTKEY: sshd.hostKeyFingerprint,
      GROWOFF_TUNNEL_KEY: moduleKey,
      GROWOFF_TUNNEL_LOCAL_HOST: '127.0.0.1',
      GROWOFF_TUNNEL_LOCAL_PORT: String(sinkPort),
      GROWOFF_TUNNEL_REMOTE_PORT: String(remotePort),
      GROWOFF_TUNNEL_ALWAYS_ON: 'true',
      GROWOFF_TUNNEL_PROBE_INTERVAL: '0',
      ...(floor ? { BENCH_CIPHER: floor.cipher } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const seen: string[] = [];
  const waiting: { predicate: (tunnel: string) => boolean; done: (tunnel: string) => void }[] = [];
  let partial = '';
  let transport: { cipher: string; native: boolean } | undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const t = /^\[tunnel\] connected to the bastion \S+: cipher (\S+), (.*)$/.exec(line);
      if (t) transport = { cipher: t[1]!, native: t[2]!.startsWith("ssh2's native") };
      const m = /^\[tunnel\] status (\S+)/.exec(line);
      if (!m) continue;
      seen.push(m[1]!);
      for (const w of [...waiting])
        if (w.predicate(m[1]!)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.done(m[1]!);
        }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000)));
  return {
    child,
    output: () => out,
    transport: () => transport,
    // Only statuses from now on: a caller waits for the next change.
    status: (predicate) => new Promise((done) => waiting.push({ predicate, done })),
  };
}

async function stopTunnel(app: TunnelApp): Promise<void> {
  const exited = new Promise((r) => (app.child.exitCode !== null ? r(0) : app.child.once('exit', r)));
  app.child.kill('SIGTERM');
  await exited;
}

console.log(
  `tunnel bench: ${PAYLOAD_BYTES / 1024 / 1024} MiB per transfer, ${ROUNDS} rounds each, loopback, OpenSSH bastion, the built app under node ${flags.join(' ')}`,
);

const ours: Measured[] = [];
const openssh: Measured[] = [];
const floor: Measured[] = [];
// `ssh -R` is given the cipher the app negotiated (its own first choice would be ChaCha20-Poly1305,
// the app's on a CPU with AES instructions is AES-GCM): the same cipher on both sides, or the ratio
// measures the ciphers as much as the forwarders.
let cipher: { cipher: string; native: boolean } | undefined;
for (let round = 0; round < ROUNDS; round += 1) {
  const app = startTunnel();
  await app.status((x) => x === 'open');
  cipher = app.transport();
  if (!cipher) throw new Error(`the tunnel app logged no cipher:\n${app.output()}`);
  ours.push(await measured(app.child.pid!));
  await stopTunnel(app);
  await waitUntil('port free', async () => !(await portAnswers(remotePort)), 10_000);

  const login = ['-c', cipher.cipher, ...loginArgs(sshd.port, moduleKey, user)];
  await withReverseForward(login, remotePort, sinkPort, async () => {
    openssh.push(await measured(childRunning('ssh')));
  });
  await waitUntil('port free', async () => !(await portAnswers(remotePort)), 10_000);

  const bare = startTunnel({ cipher: cipher.cipher });
  await bare.status((x) => x === 'open');
  floor.push(await measured(bare.child.pid!));
  await stopTunnel(bare);
  await waitUntil('port free', async () => !(await portAnswers(remotePort)), 10_000);
}
console.log(
  `cipher, both sides: ${cipher!.cipher} (the app: ${cipher!.native ? "ssh2's native binding" : "Node's crypto: ssh2's native binding is not built"})`,
);
const fmt = (v: number) => v.toFixed(1);
const mid = (runs: Measured[], key: keyof Measured) => median(runs.map((r) => r[key]));
const sides = [
  ['tunnel app (built, ssh2):  ', ours],
  ['OpenSSH ssh -R (baseline):  ', openssh],
  ['least an ssh2 tunnel does:  ', floor],
] as const;
for (const [name, runs] of sides)
  console.log(
    `throughput ${name} ${runs.map((r) => fmt(r.mibPerS)).join(', ')} MiB/s, median ${fmt(mid(runs, 'mibPerS'))}`,
  );
console.log(
  `ratio tunnel / ssh -R: ${(mid(ours, 'mibPerS') / mid(openssh, 'mibPerS')).toFixed(2)}; the least an ssh2 tunnel does / ssh -R: ${(mid(floor, 'mibPerS') / mid(openssh, 'mibPerS')).toFixed(2)}`,
);
// CPU per MiB depends far less on what else loads the machine than MiB/s does.
console.log(
  `CPU per MiB, median: tunnel app ${fmt(mid(ours, 'cpuMsPerMib'))} ms, ssh ${fmt(mid(openssh, 'cpuMsPerMib'))} ms, the least an ssh2 tunnel does ${fmt(mid(floor, 'cpuMsPerMib'))} ms (the forwarding process only)`,
);
// Part of where a forwarder's CPU goes: each fresh page it writes to is a fault. ssh2 decrypts each
// read in place and hands on views of it, so a read's buffer is freed only when a garbage collection
// finds it unused (a few times in a transfer, prompted by the external memory, not by the heap), and
// the reads in between land in fresh pages. ssh takes faults too, as its buffers grow and shrink.
console.log(
  `page faults per MiB, median: tunnel app ${fmt(mid(ours, 'faultsPerMib'))}, ssh ${fmt(mid(openssh, 'faultsPerMib'))}, the least an ssh2 tunnel does ${fmt(mid(floor, 'faultsPerMib'))}; one fault costs ${pageFaultUs().toFixed(1)} µs on this machine`,
);

// Dead link: freeze the bastion's session processes; keepalives must notice.
const app = startTunnel();
await app.status((x) => x === 'open');
const frozen = descendantsOf(sshd.pid);
const lost = app.status((x) => x !== 'open');
signalAll(frozen, 'SIGSTOP');
const frozenAt = Date.now();
await lost;
const noticedAt = Date.now();
// The bastion reaps the dead session (as ClientAlive* would); from then on the port is free again.
const back = app.status((x) => x === 'open');
signalAll(frozen, 'SIGKILL');
await back;
const backAt = Date.now();
console.log(
  `dead link (keepalive 8 s × 2): noticed after ${((noticedAt - frozenAt) / 1000).toFixed(1)} s (bound 24 s); back ${((backAt - noticedAt) / 1000).toFixed(1)} s after the stale session was gone`,
);

// sshd killed (with its sessions) and restarted at once.
const gone = app.status((x) => x !== 'open');
const killedAt = Date.now();
const sessions = descendantsOf(sshd.pid);
signalAll([sshd.pid, ...sessions], 'SIGKILL');
await stopProcess(sshd.pid, 2000);
await gone;
const lostAt = Date.now();
const reopened = app.status((x) => x === 'open');
sshd = await startSshd({ dir, port: sshd.port, extraConfig });
const restartedAt = Date.now();
await reopened;
const reopenedAt = Date.now();
console.log(
  `sshd killed: noticed after ${((lostAt - killedAt) / 1000).toFixed(2)} s; restarted after ${((restartedAt - killedAt) / 1000).toFixed(2)} s; open again ${((reopenedAt - restartedAt) / 1000).toFixed(2)} s after the restart`,
);

await stopTunnel(app);
await stopProcess(sshd.pid);
sink.close();
benchResult('tunnel', [
  { id: 'tunnel.throughput', value: mid(ours, 'mibPerS'), baseline: mid(openssh, 'mibPerS'), unit: 'MiB/s' },
  { id: 'tunnel.ssh2Floor', value: mid(floor, 'mibPerS'), baseline: mid(openssh, 'mibPerS'), unit: 'MiB/s' },
]);
process.exit(0);
