import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appSpec,
  dockerRunArgs,
  MANAGED_APPS,
  MQTT_SECRETS_IN_CONTAINER,
  resolveSpec,
  type ModuleLayout,
} from './app-spec';

const layout: ModuleLayout = {
  etcDir: '/etc/growoff',
  dataRoot: '/var/lib/growoff',
  dockerSocket: '/var/run/docker.sock',
  hostRoot: '/',
  dockerGid: '995',
  names: {
    core: 'growoff-core',
    telegraf: 'growoff-telegraf',
    tunnel: 'growoff-tunnel',
    updater: 'growoff-updater',
  },
  managedBy: 'growoff-updater',
  coreDevices: ['/dev/i2c-1'],
  coreGroups: ['998'],
  coreVolumes: ['/sys/bus/w1:/sys/bus/w1:ro'],
};

describe('the app specs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'app-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('give every app its env file, host network and the labels the updater finds it by', () => {
    for (const app of MANAGED_APPS) {
      const spec = appSpec(app, layout);
      expect(spec.envFile, app).toBe(`/etc/growoff/${app}.env`);
      expect(spec.network, app).toBe('host');
      expect(spec.labels, app).toEqual({ 'growoff.app': app, 'growoff.managed-by': 'growoff-updater' });
      expect(spec.securityOpt, app).toContain('no-new-privileges');
    }
  });

  it('bind the broker TLS folder into the core, the tunnel and the updater where tools/base points their env files', () => {
    const installer = readFileSync(new URL('../../../../tools/base/install.sh', import.meta.url), 'utf8');
    const inContainer = /^readonly MQTT_TLS_IN_CONTAINER=(\S+)$/m.exec(installer)?.[1];
    expect(inContainer).toBe(MQTT_SECRETS_IN_CONTAINER);
    for (const app of ['core', 'tunnel', 'updater'] as const)
      expect(appSpec(app, layout).binds, app).toContain(`/etc/growoff/secrets/mqtt:${inContainer}:ro`);
    expect(appSpec('telegraf', layout).binds.join()).not.toContain('secrets');
  });

  it('give the core its data folder, the I2C device and group, with every capability dropped', () => {
    expect(appSpec('core', layout)).toMatchObject({
      binds: [
        '/var/lib/growoff/core:/data',
        '/etc/growoff/secrets/mqtt:/run/secrets/mqtt:ro',
        '/sys/bus/w1:/sys/bus/w1:ro',
      ],
      devices: ['/dev/i2c-1'],
      groups: ['998'],
      capDrop: ['ALL'],
      restart: 'unless-stopped',
    });
    expect(appSpec('core', layout).user).toBeUndefined();
  });

  it('give Telegraf the host read-only, the Docker socket, its buffer volume and the socket group as its user', () => {
    expect(appSpec('telegraf', layout)).toMatchObject({
      binds: [
        '/:/hostfs:ro',
        '/var/run/docker.sock:/var/run/docker.sock:ro',
        'growoff-telegraf:/var/lib/telegraf',
      ],
      user: 'telegraf:995',
      restart: 'unless-stopped',
    });
  });

  it('give the tunnel its key and the broker TLS files read-only and a read-only root', () => {
    expect(appSpec('tunnel', layout)).toMatchObject({
      binds: [
        '/var/lib/growoff/tunnel:/data',
        '/etc/growoff/secrets/tunnel_ed25519:/run/secrets/tunnel_ed25519:ro',
        '/etc/growoff/secrets/mqtt:/run/secrets/mqtt:ro',
      ],
      readOnlyRoot: true,
      tmpfs: ['/tmp'],
      capDrop: ['ALL'],
    });
  });

  it('give the updater the socket, its data folder and the env files, restarted by the launcher only', () => {
    expect(appSpec('updater', layout)).toMatchObject({
      binds: [
        '/var/run/docker.sock:/var/run/docker.sock',
        '/var/lib/growoff/updater:/data',
        '/etc/growoff:/etc/growoff:ro',
        '/etc/growoff/secrets/mqtt:/run/secrets/mqtt:ro',
      ],
      readOnlyRoot: true,
      capDrop: ['ALL'],
      restart: 'no',
    });
  });

  it('render the updater as docker run arguments, its own name passed in', () => {
    expect(dockerRunArgs(appSpec('updater', layout), 'growoff-updater-abc123')).toEqual([
      '--name',
      'growoff-updater-abc123',
      '--network',
      'host',
      '--restart',
      'no',
      '--env-file',
      '/etc/growoff/updater.env',
      '--env',
      'GROWOFF_SELF_CONTAINER=growoff-updater-abc123',
      '--volume',
      '/var/run/docker.sock:/var/run/docker.sock',
      '--volume',
      '/var/lib/growoff/updater:/data',
      '--volume',
      '/etc/growoff:/etc/growoff:ro',
      '--volume',
      '/etc/growoff/secrets/mqtt:/run/secrets/mqtt:ro',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--label',
      'growoff.app=updater',
      '--label',
      'growoff.managed-by=growoff-updater',
    ]);
  });

  it('read the env file when a container is made, and refuse a missing one with a coded error', () => {
    writeFileSync(join(dir, 'tunnel.env'), '# comment\nGROWOFF_BASTION=b:22\n\nGROWOFF_TUNNEL_MAX_TTL=60\n');
    const resolved = resolveSpec(appSpec('tunnel', { ...layout, etcDir: dir }));
    expect(resolved.env).toEqual(['GROWOFF_BASTION=b:22', 'GROWOFF_TUNNEL_MAX_TTL=60']);
    expect(() => resolveSpec(appSpec('core', { ...layout, etcDir: dir }))).toThrow(
      expect.objectContaining({ code: 'NO_CONTAINER_SPEC', message: expect.stringContaining('core.env') }),
    );
  });
});
