import { EventEmitter } from 'node:events';
import {
  createEvent,
  type EventData,
  type EventSeverity,
  type EventType,
  type RegisteredEvent,
} from '@growoff/protocol';
import { Backoff } from './backoff';
import { BastionSession, type BastionSessionOptions } from './bastion-session';
import { isTunnelError, TunnelError, type TunnelErrorCode } from './tunnel-error';

export type TunnelPhase = 'closed' | 'connecting' | 'open' | 'error';

export interface TunnelSnapshot {
  tunnel: TunnelPhase;
  alwaysOn: boolean;
  remotePort?: number;
  /** ms epoch; absent when always-on or closed. */
  expiresAt?: number;
  reason?: string;
  errorCode?: TunnelErrorCode;
}

/** An audit event: of a registered type, checked against the event registry when raised. */
export type AuditEvent = RegisteredEvent;

export interface TunnelSupervisorOptions {
  session: BastionSessionOptions;
  remotePort: number;
  maxTtlS: number;
  alwaysOn: boolean;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /**
   * Failed probes in a row before the session is remade. One failure alone (a busy bastion, a lost
   * packet) must not cut the engineers' sessions that the forward carries.
   */
  probeFailuresMax: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  portBusyRetries: number;
}

export interface OpenOutcome {
  snapshot: TunnelSnapshot;
  ttlSeconds: number;
  capped: boolean;
}

interface Demand {
  reason: string;
  /** ms epoch; null for always-on. */
  until: number | null;
}

/** What one end-to-end probe found, and how many have failed in a row since the last good one. */
export interface ProbeOutcome {
  ok: boolean;
  failuresInARow: number;
}

export interface TunnelSupervisorEvents {
  status: [TunnelSnapshot];
  audit: [AuditEvent];
  probe: [ProbeOutcome];
}

/**
 * Keeps one reverse forward up while it is wanted (an open request until its expiry, or always),
 * and down otherwise. A lost session, a refused port or a failed probe leads to a new session
 * after a jittered backoff; every transition is reported as status and audit events.
 */
export class TunnelSupervisor extends EventEmitter<TunnelSupervisorEvents> {
  private demand: Demand | null = null;
  private current: TunnelSnapshot;
  private session: BastionSession | undefined;
  private running: Promise<void> | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  /** Bumped by every close, so that a run loop serves only the demand it was started for. */
  private generation = 0;
  private readonly backoff: Backoff;

  constructor(private readonly options: TunnelSupervisorOptions) {
    super();
    this.backoff = new Backoff(options.backoffMinMs, options.backoffMaxMs);
    this.current = { tunnel: 'closed', alwaysOn: options.alwaysOn };
  }

  get snapshot(): TunnelSnapshot {
    return this.current;
  }

  get remotePort(): number {
    return this.options.remotePort;
  }

  /** The live session, for diagnostics. */
  get activeSession(): BastionSession | undefined {
    return this.session;
  }

  start(): void {
    if (this.options.alwaysOn) {
      this.demand = { reason: 'always-on by configuration', until: null };
      this.audit('info', 'tunnel.requested', 'always-on tunnel requested by configuration', {
        alwaysOn: true,
      });
      this.ensureRunning();
    }
  }

  /** Opens the tunnel (or extends it) for `ttlSeconds`, capped by the configured maximum. */
  open(ttlSeconds: number, reason: string): OpenOutcome {
    const capped = ttlSeconds > this.options.maxTtlS;
    const ttl = Math.min(ttlSeconds, this.options.maxTtlS);
    if (this.options.alwaysOn) {
      this.audit('info', 'tunnel.requested', `open requested (${reason}); the tunnel is always on`, {
        reason,
      });
      return { snapshot: this.current, ttlSeconds: ttl, capped };
    }
    const until = Date.now() + ttl * 1000;
    const extending = this.demand !== null;
    this.demand = { reason, until };
    this.armExpiry(until);
    this.audit(
      'info',
      extending ? 'tunnel.extended' : 'tunnel.requested',
      `${extending ? 'extended' : 'open requested'} for ${ttl} s: ${reason}`,
      { reason, ttlSeconds: ttl, capped, expiresAt: until },
    );
    if (this.current.tunnel === 'open') this.publish({ ...this.current, expiresAt: until, reason });
    this.ensureRunning();
    return { snapshot: this.current, ttlSeconds: ttl, capped };
  }

  /** Closes an on-demand tunnel; refused (false) when always-on. */
  async close(reason: string): Promise<boolean> {
    if (this.options.alwaysOn) return false;
    await this.stopDemand('tunnel.closed', 'info', `closed: ${reason}`, reason);
    return true;
  }

  /** Resolves with the next settled state: open, error, or closed. */
  settled(timeoutMs: number): Promise<TunnelSnapshot> {
    if (this.current.tunnel !== 'connecting') return Promise.resolve(this.current);
    return new Promise((resolve) => {
      const done = (snapshot: TunnelSnapshot) => {
        if (snapshot.tunnel === 'connecting') return;
        clearTimeout(timer);
        this.off('status', done);
        resolve(snapshot);
      };
      const timer = setTimeout(() => {
        this.off('status', done);
        resolve(this.current);
      }, timeoutMs);
      this.on('status', done);
    });
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.demand) {
      this.audit('info', 'tunnel.closed', 'closed: the tunnel app is stopping', {
        reason: 'shutdown',
        requestReason: this.demand.reason,
      });
    }
    this.demand = null;
    clearTimeout(this.expiryTimer);
    this.wake?.();
    await this.session?.close();
    await this.running;
  }

  private armExpiry(until: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      void this.stopDemand(
        'tunnel.expired',
        'info',
        `expired after its TTL (${this.demand?.reason ?? ''})`,
        'expired',
      );
    }, until - Date.now());
  }

  private async stopDemand(
    type: 'tunnel.closed' | 'tunnel.expired',
    severity: EventSeverity,
    message: string,
    reason: string,
  ): Promise<void> {
    const hadDemand = this.demand !== null;
    this.generation += 1;
    clearTimeout(this.expiryTimer);
    const requestReason = this.demand?.reason;
    this.demand = null;
    this.wake?.();
    const session = this.session;
    if (session) await session.close();
    await this.running;
    if (hadDemand) this.audit(severity, type, message, { reason, requestReason });
    // A new open request may have come while this one was closing.
    if (this.demand) {
      this.ensureRunning();
      return;
    }
    this.publish({ tunnel: 'closed', alwaysOn: this.options.alwaysOn, reason });
  }

  private ensureRunning(): void {
    if (this.running || this.stopped) return;
    this.running = this.run(this.generation).finally(() => {
      this.running = undefined;
    });
  }

  private async run(generation: number): Promise<void> {
    const wanted = () => this.demand !== null && !this.stopped && generation === this.generation;
    let portBusy = 0;
    let lastFailure: TunnelErrorCode | undefined;
    while (wanted() && this.demand) {
      if (this.current.tunnel !== 'error')
        this.publish({ tunnel: 'connecting', alwaysOn: this.options.alwaysOn, reason: this.demand.reason });
      let failure: TunnelError;
      try {
        const session = await BastionSession.connect(this.options.session);
        this.session = session;
        const remotePort = await session.forward(this.options.remotePort).catch(async (error: unknown) => {
          await session.close();
          throw error;
        });
        if (!wanted() || !this.demand) {
          await session.close();
          break;
        }
        portBusy = 0;
        lastFailure = undefined;
        this.backoff.reset();
        this.audit(
          'info',
          'tunnel.opened',
          `open on the bastion's port ${remotePort}: ${this.demand.reason}`,
          {
            reason: this.demand.reason,
            remotePort,
            expiresAt: this.demand.until ?? undefined,
          },
        );
        this.publish({
          tunnel: 'open',
          alwaysOn: this.options.alwaysOn,
          remotePort,
          expiresAt: this.demand.until ?? undefined,
          reason: this.demand.reason,
        });
        failure = await this.hold(session, wanted);
      } catch (error) {
        failure = isTunnelError(error) ? error : new TunnelError('TUNNEL_CONNECT_FAILED', String(error));
      } finally {
        this.session = undefined;
      }
      if (!wanted() || !this.demand) break;
      if (failure.code === 'TUNNEL_REMOTE_PORT_BUSY') portBusy += 1;
      else portBusy = 0;
      // A lost session or a port a dead session may still hold is retried quietly at first.
      const transient = ['TUNNEL_LINK_DEAD', 'TUNNEL_SESSION_CLOSED', 'TUNNEL_PROBE_FAILED'].includes(
        failure.code,
      );
      const reportable =
        failure.code === 'TUNNEL_REMOTE_PORT_BUSY' ? portBusy > this.options.portBusyRetries : !transient;
      const severity = failure.code === 'TUNNEL_HOSTKEY_MISMATCH' ? 'critical' : 'error';
      if (failure.code === 'TUNNEL_HOSTKEY_MISMATCH')
        console.error(`[tunnel] ${failure.code}: ${failure.message}`);
      if (reportable) {
        if (failure.code !== lastFailure) {
          this.audit(severity, 'tunnel.failed', failure.message, {
            code: failure.code,
            reason: this.demand.reason,
            ...failure.details,
          });
        }
        lastFailure = failure.code;
        this.publish({
          tunnel: 'error',
          alwaysOn: this.options.alwaysOn,
          reason: failure.message,
          errorCode: failure.code,
        });
      } else {
        this.publish({
          tunnel: 'connecting',
          alwaysOn: this.options.alwaysOn,
          reason: failure.message,
          errorCode: failure.code,
        });
      }
      await this.sleep(this.backoff.next());
    }
  }

  /** Waits while the session is up and probes it; resolves with why it ended. */
  private hold(session: BastionSession, wanted: () => boolean): Promise<TunnelError> {
    return new Promise((resolve) => {
      let probeTimer: NodeJS.Timeout | undefined;
      let cause: TunnelError | undefined;
      const finish = (error: TunnelError | undefined) => {
        clearTimeout(probeTimer);
        this.wake = undefined;
        const lost =
          cause ?? error ?? new TunnelError('TUNNEL_SESSION_CLOSED', 'the bastion closed the session');
        if (wanted() && !cause) {
          this.audit('warning', 'tunnel.lost', `the session to the bastion ended: ${lost.message}`, {
            code: lost.code,
          });
        }
        resolve(lost);
      };
      if (session.isClosed) {
        finish(undefined);
        return;
      }
      session.once('closed', finish);
      this.wake = () => void session.close();
      let failures = 0;
      const scheduleProbe = () => {
        if (this.options.probeIntervalMs <= 0) return;
        probeTimer = setTimeout(() => {
          session.probe(this.options.probeTimeoutMs).then(
            () => {
              failures = 0;
              this.emit('probe', { ok: true, failuresInARow: 0 });
              scheduleProbe();
            },
            (error: TunnelError) => {
              if (session.isClosed) return;
              failures += 1;
              const limit = this.options.probeFailuresMax;
              const giveUp = failures >= limit;
              this.emit('probe', { ok: false, failuresInARow: failures });
              this.audit(
                'error',
                'tunnel.probe.failed',
                `${error.message} (${failures} of ${limit} in a row); ${giveUp ? 'reconnecting' : 'keeping the session'}`,
                { code: error.code },
              );
              if (!giveUp) {
                scheduleProbe();
                return;
              }
              cause = error;
              void session.close();
            },
          );
        }, this.options.probeIntervalMs);
      };
      scheduleProbe();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private publish(snapshot: TunnelSnapshot): void {
    this.current = snapshot;
    this.emit('status', snapshot);
  }

  private audit<T extends EventType>(
    severity: EventSeverity,
    type: T,
    message: string,
    data?: EventData<T>,
  ): void {
    this.emit('audit', createEvent(type, message, data, { severity }));
  }
}
