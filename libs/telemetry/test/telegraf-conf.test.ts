import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';

const confPath = join(import.meta.dirname, '../../../docker/telegraf/telegraf.conf');
type Table = Record<string, unknown>;

describe('docker/telegraf/telegraf.conf', () => {
  const conf = parse(readFileSync(confPath, 'utf8')) as Table;
  const inputs = conf.inputs as Record<string, Table[]>;
  const outputs = conf.outputs as Record<string, Table[]>;

  it('listens for the core on 127.0.0.1:8186 with a token from the environment', () => {
    expect(inputs.influxdb_v2_listener).toEqual([
      expect.objectContaining({ service_address: '127.0.0.1:8186', token: '${GROWOFF_TELEGRAF_TOKEN}' }),
    ]);
  });

  it('collects cpu, mem, disk, diskio, net, system, temp, docker and internal', () => {
    for (const name of ['cpu', 'mem', 'disk', 'diskio', 'net', 'system', 'temp', 'docker', 'internal']) {
      expect(inputs[name], name).toHaveLength(1);
    }
  });

  it('tags everything with the module id', () => {
    expect(conf.global_tags).toEqual({ module: '${GROWOFF_MODULE_ID}' });
  });

  it('forwards to the cloud with influxdb_v2 and a disk buffer, secrets from the environment', () => {
    expect(conf.agent).toMatchObject({ buffer_strategy: 'disk', buffer_directory: expect.any(String) });
    const [cloud] = outputs.influxdb_v2 ?? [];
    expect(cloud).toMatchObject({
      urls: ['${GROWOFF_CLOUD_INFLUX_URL}'],
      token: '${GROWOFF_CLOUD_INFLUX_TOKEN}',
      organization: '${GROWOFF_CLOUD_INFLUX_ORG}',
      bucket: '${GROWOFF_CLOUD_INFLUX_BUCKET}',
    });
    expect(Object.keys(outputs)).toEqual(['influxdb_v2']);
  });

  it('holds no literal secret: every token comes from a ${VAR}', () => {
    const tokens = readFileSync(confPath, 'utf8').match(/^\s*token\s*=.*$/gm) ?? [];
    expect(tokens.length).toBe(2);
    for (const t of tokens) expect(t).toMatch(/=\s*"\$\{[A-Z_]+\}"$/);
  });
});
