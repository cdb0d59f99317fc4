import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon, waitUntil } from './process';

export interface InfluxDbInfo {
  pid: number;
  port: number;
  url: string;
  version: string;
}

export interface InfluxDbOptions {
  dir: string;
  port: number;
  /** The RPC port used for backups; never exposed beyond loopback. */
  rpcPort: number;
}

export const INFLUXD_BINARY = '/usr/bin/influxd';

/** InfluxDB 1.6.7 (Debian's `influxdb`) with its data under `dir`. */
export async function startInfluxDb(options: InfluxDbOptions): Promise<InfluxDbInfo> {
  mkdirSync(options.dir, { recursive: true });
  const conf = join(options.dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${options.rpcPort}"
[meta]
  dir = "${join(options.dir, 'meta')}"
[data]
  dir = "${join(options.dir, 'data')}"
  wal-dir = "${join(options.dir, 'wal')}"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[http]
  enabled = true
  bind-address = "127.0.0.1:${options.port}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`,
  );
  const pid = spawnDaemon(INFLUXD_BINARY, ['-config', conf], join(options.dir, 'influxd.log'));
  const url = `http://127.0.0.1:${options.port}`;
  let version = '';
  await waitUntil(
    'influxdb',
    async () => {
      try {
        const res = await fetch(`${url}/ping`);
        version = res.headers.get('x-influxdb-version') ?? '';
        return res.status === 204;
      } catch {
        return false;
      }
    },
    30_000,
    pid,
  );
  return { pid, port: options.port, url, version };
}
