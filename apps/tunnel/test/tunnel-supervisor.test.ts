import { portAnswers, stopProcess, type SshdInfo } from '@growoff/test-services';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TunnelSupervisor, type AuditEvent, type ProbeOutcome } from '../src/tunnel-supervisor';
import {
  descendantsOf,
  killBastion,
  restartBastion,
  signalAll,
  sshThroughTunnel,
  startBastion,
  startModuleSshd,
  interactiveThroughTunnel,
  statusWhere,
  supervisorOptions,
  type Bastion,
} from './support';

/** The outcome of the supervisor's next end-to-end probe. */
function nextProbe(s: TunnelSupervisor): Promise<ProbeOutcome> {
  return new Promise((resolve) => s.once('probe', resolve));
}

describe('the tunnel supervisor against a real bastion', () => {
  let bastion: Bastion;
  let moduleSshd: SshdInfo;
  const supervisors: TunnelSupervisor[] = [];

  function supervisor(overrides: Parameters<typeof supervisorOptions>[2] = {}) {
    const s = new TunnelSupervisor(supervisorOptions(bastion, moduleSshd.port, overrides));
    const audit: AuditEvent[] = [];
    s.on('audit', (e) => audit.push(e));
    supervisors.push(s);
    return { s, audit };
  }

  beforeAll(async () => {
    bastion = await startBastion('supervisor');
    moduleSshd = await startModuleSshd('supervisor');
  });

  afterEach(async () => {
    for (const s of supervisors.splice(0)) await s.shutdown();
  });

  afterAll(async () => {
    await killBastion(bastion);
    await stopProcess(moduleSshd.pid);
  });

  it('opens on demand so that OpenSSH reaches the module sshd through the bastion, and closes on request', async () => {
    const { s, audit } = supervisor();
    const outcome = s.open(600, 'check the pump');
    expect(outcome).toMatchObject({ ttlSeconds: 600, capped: false });
    const open = await statusWhere(s, (x) => x.tunnel === 'open');
    expect(open.remotePort).toBe(bastion.remotePort);
    expect(open.reason).toBe('check the pump');
    expect(open.expiresAt).toBeGreaterThan(Date.now() + 590_000);

    const through = await sshThroughTunnel(moduleSshd, bastion.remotePort, 'echo reached-the-module');
    expect(through.stderr).toBe('');
    expect(through.stdout.trim()).toBe('reached-the-module');

    expect(await s.close('done')).toBe(true);
    expect(s.snapshot.tunnel).toBe('closed');
    expect(await portAnswers(bastion.remotePort)).toBe(false);
    expect(audit.map((e) => e.type)).toEqual(['tunnel.requested', 'tunnel.opened', 'tunnel.closed']);
    expect(audit[2]?.data).toMatchObject({ reason: 'done', requestReason: 'check the pump' });
  });

  it('extends an open tunnel on a second request, and opens again when asked right after a close', async () => {
    const { s, audit } = supervisor();
    s.open(60, 'first');
    const open = await statusWhere(s, (x) => x.tunnel === 'open');
    s.open(600, 'longer');
    expect(s.snapshot).toMatchObject({ tunnel: 'open', reason: 'longer' });
    expect(s.snapshot.expiresAt).toBeGreaterThan(open.expiresAt! + 500_000);
    const closing = s.close('switch');
    s.open(120, 'again');
    await closing;
    const reopened = await statusWhere(s, (x) => x.tunnel === 'open' && x.reason === 'again');
    expect(reopened.remotePort).toBe(bastion.remotePort);
    expect(audit.map((e) => e.type)).toEqual([
      'tunnel.requested',
      'tunnel.opened',
      'tunnel.extended',
      // The close was still under way: this request starts a new tunnel rather than extending.
      'tunnel.requested',
      'tunnel.closed',
      'tunnel.opened',
    ]);
  });

  it('caps the TTL at the configured maximum and closes at expiry within a second', async () => {
    const { s, audit } = supervisor({ maxTtlS: 2 });
    const outcome = s.open(3600, 'short visit');
    expect(outcome).toMatchObject({ ttlSeconds: 2, capped: true });
    const open = await statusWhere(s, (x) => x.tunnel === 'open');
    const closed = await statusWhere(s, (x) => x.tunnel === 'closed');
    expect(Math.abs(Date.now() - open.expiresAt!)).toBeLessThan(1000);
    expect(closed.reason).toBe('expired');
    expect(await portAnswers(bastion.remotePort)).toBe(false);
    expect(audit.map((e) => e.type)).toEqual(['tunnel.requested', 'tunnel.opened', 'tunnel.expired']);
  });

  it("opens when one of several pinned host keys is the bastion's (a rotation in progress)", async () => {
    const { s } = supervisor({
      session: {
        ...supervisorOptions(bastion, moduleSshd.port).session,
        hostKeyFingerprints: [moduleSshd.hostKeyFingerprint, bastion.sshd.hostKeyFingerprint],
      },
    });
    s.open(60, 'rotation');
    const open = await statusWhere(s, (x) => x.tunnel === 'open' || x.tunnel === 'error');
    expect(open).toMatchObject({ tunnel: 'open', remotePort: bastion.remotePort });
  });

  it('refuses a bastion whose host key is none of the pinned ones, loudly and without opening', async () => {
    const otherPin = `SHA256:${'A'.repeat(43)}`;
    const { s, audit } = supervisor({
      session: {
        ...supervisorOptions(bastion, moduleSshd.port).session,
        hostKeyFingerprints: [moduleSshd.hostKeyFingerprint, otherPin],
      },
    });
    s.open(60, 'should not open');
    const error = await statusWhere(s, (x) => x.tunnel === 'error');
    expect(error.errorCode).toBe('TUNNEL_HOSTKEY_MISMATCH');
    expect(error.reason).toContain(bastion.sshd.hostKeyFingerprint);
    expect(error.reason).toContain(`any of the pinned ${moduleSshd.hostKeyFingerprint}, ${otherPin}`);
    expect(audit.find((e) => e.type === 'tunnel.failed')).toMatchObject({ severity: 'critical' });
    expect(await portAnswers(bastion.remotePort)).toBe(false);
  });

  it('comes up at start when always-on and refuses to close', async () => {
    const { s } = supervisor({ alwaysOn: true });
    s.start();
    const open = await statusWhere(s, (x) => x.tunnel === 'open');
    expect(open.expiresAt).toBeUndefined();
    expect(open.alwaysOn).toBe(true);
    expect(await s.close('try')).toBe(false);
    expect(s.snapshot.tunnel).toBe('open');
  });

  it('notices a frozen bastion session by keepalives, reports the port a dead session holds, and recovers once it is gone', async () => {
    const { s, audit } = supervisor({ portBusyRetries: 2 });
    s.open(600, 'dead link');
    await statusWhere(s, (x) => x.tunnel === 'open');
    const sessions = descendantsOf(bastion.sshd.pid);
    expect(sessions.length).toBeGreaterThan(0);
    // A stopped session process answers nothing but keeps its TCP connection and its listening port.
    signalAll(sessions, 'SIGSTOP');
    const frozenAt = Date.now();
    try {
      await statusWhere(s, (x) => x.tunnel !== 'open');
      // keepalive 300 ms × (2 unanswered + 1) = 0.9 s, with slack for a busy machine
      expect(Date.now() - frozenAt).toBeLessThan(3000);
      expect(audit.find((e) => e.type === 'tunnel.lost')?.data).toMatchObject({ code: 'TUNNEL_LINK_DEAD' });
      const busy = await statusWhere(s, (x) => x.tunnel === 'error');
      expect(busy.errorCode).toBe('TUNNEL_REMOTE_PORT_BUSY');
    } finally {
      signalAll(sessions, 'SIGKILL');
    }
    const back = await statusWhere(s, (x) => x.tunnel === 'open');
    expect(back.remotePort).toBe(bastion.remotePort);
    expect((await sshThroughTunnel(moduleSshd, bastion.remotePort, 'echo back')).stdout.trim()).toBe('back');
  });

  it('reconnects by itself after the bastion sshd is killed and restarted', async () => {
    const { s } = supervisor();
    s.open(600, 'restart');
    await statusWhere(s, (x) => x.tunnel === 'open');
    await killBastion(bastion);
    await statusWhere(s, (x) => x.tunnel !== 'open');
    await restartBastion(bastion);
    await statusWhere(s, (x) => x.tunnel === 'open');
    expect((await sshThroughTunnel(moduleSshd, bastion.remotePort, 'echo again')).stdout.trim()).toBe(
      'again',
    );
  });

  it('catches by the end-to-end probe a session that is up while its forward is dead, and re-establishes it after the configured failures in a row', async () => {
    const { s, audit } = supervisor({ probeIntervalMs: 1000, probeTimeoutMs: 15_000, probeFailuresMax: 2 });
    s.open(600, 'probe');
    await statusWhere(s, (x) => x.tunnel === 'open');
    const first = s.activeSession!;
    // The SSH session stays up (keepalives answered) but the bastion no longer listens.
    await first.cancelForward();
    expect(first.isClosed).toBe(false);
    await statusWhere(s, (x) => x.tunnel === 'connecting');
    const failed = audit.filter((e) => e.type === 'tunnel.probe.failed');
    expect(failed.map((e) => [e.data, e.message.replace(/^.*\((\d of \d in a row)\).*$/, '$1')])).toEqual([
      [{ code: 'TUNNEL_PROBE_FAILED' }, '1 of 2 in a row'],
      [{ code: 'TUNNEL_PROBE_FAILED' }, '2 of 2 in a row'],
    ]);
    await statusWhere(s, (x) => x.tunnel === 'open');
    expect(s.activeSession).not.toBe(first);
    const through = await sshThroughTunnel(moduleSshd, bastion.remotePort, 'echo probed');
    expect({ ...through, audit: audit.map((e) => e.type) }).toMatchObject({ stdout: 'probed\n' });
  }, 60_000);

  it("keeps an engineer's open session through a failed probe that the next one contradicts, as long as failures are not in a row", async () => {
    const { s, audit } = supervisor({ probeIntervalMs: 1000, probeTimeoutMs: 15_000, probeFailuresMax: 2 });
    s.open(600, 'engineer at work');
    await statusWhere(s, (x) => x.tunnel === 'open');
    const session = s.activeSession!;
    const statuses: string[] = [];
    s.on('status', (x) => statuses.push(x.tunnel));
    const engineer = interactiveThroughTunnel(moduleSshd, bastion.remotePort);
    try {
      expect(await engineer.say('before')).toBe('before');
      // Twice, with a good probe between: the forward drops (the bastion stops listening, so the
      // probe's connection is refused), then comes back on the same session before the next probe.
      for (let round = 1; round <= 2; round += 1) {
        const failed = nextProbe(s);
        await session.cancelForward();
        expect(await failed).toEqual({ ok: false, failuresInARow: 1 });
        const passed = nextProbe(s);
        await session.forward(bastion.remotePort);
        expect(await passed).toEqual({ ok: true, failuresInARow: 0 });
        expect(await engineer.say(`after failure ${round}`)).toBe(`after failure ${round}`);
      }
      expect(s.activeSession).toBe(session);
      expect(session.isClosed).toBe(false);
      expect(statuses).toEqual([]);
      expect(audit.filter((e) => e.type === 'tunnel.probe.failed').map((e) => e.message)).toEqual([
        expect.stringContaining('(1 of 2 in a row); keeping the session'),
        expect.stringContaining('(1 of 2 in a row); keeping the session'),
      ]);
      expect(audit.map((e) => e.type)).not.toContain('tunnel.lost');
    } finally {
      engineer.end();
    }
  }, 60_000);
});
