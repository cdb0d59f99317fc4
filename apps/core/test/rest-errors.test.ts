import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import { ERROR_REGISTRY, ErrorBody, validate, type RegisteredErrorCode } from '@growoff/protocol';
import { CONFIG_FILE } from '../src/config/config-store';
import { rest, startTestCore, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');

describe('REST errors through the error code registry', () => {
  let core: Awaited<ReturnType<typeof startTestCore>>;

  beforeAll(async () => {
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('rest-errors'),
      GROWOFF_MQTT_URL: mosquitto.url,
    });
  });

  afterAll(async () => {
    await core?.stop();
  });

  it('answers every refusal with a registered code, the registry status, in the contract shape', async () => {
    const refusals: [string, string, unknown, RegisteredErrorCode][] = [
      ['GET', '/api/v1/sensors/nope', undefined, 'UNKNOWN_SENSOR'],
      ['GET', '/api/v1/nowhere', undefined, 'NOT_FOUND'],
      ['PUT', '/api/v1/actuators/fan', { level: 500 }, 'INVALID_MESSAGE'],
      ['PUT', '/api/v1/actuators/fan', '{"level": ', 'BAD_JSON'],
      ['PUT', '/api/v1/actuators/nope', { state: 'on' }, 'UNKNOWN_ACTUATOR'],
      ['POST', '/api/v1/sim/faults', { target: 'nope', fault: 'nack' }, 'INVALID_MESSAGE'],
    ];
    for (const [method, path, body, code] of refusals) {
      const answer = await rest(core, method, path, body);
      expect(answer.body.error, `${method} ${path}`).toMatchObject({ code });
      expect(answer.status, `${method} ${path}`).toBe(ERROR_REGISTRY[code].status);
      expect(validate(ErrorBody, answer.body.error).ok).toBe(true);
    }
  });

  it('answers an unexpected failure (the config cannot be saved) as 500 INTERNAL, saying nothing of it', async () => {
    // A folder where the config file goes: the rename of the saved file fails with EISDIR, even as root.
    await mkdir(join(core.config.dataDir, CONFIG_FILE));
    const before = await rest(core, 'GET', '/api/v1/config');
    const answer = await rest(core, 'PUT', '/api/v1/config', { thresholds: { co2HighPpm: 1234 } });
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      error: { code: 'INTERNAL', message: 'internal error while handling the command' },
    });
    expect(validate(ErrorBody, answer.body.error).ok).toBe(true);
    expect(JSON.stringify(answer.body)).not.toMatch(/EISDIR|growoff-core-test/);
    expect(await rest(core, 'GET', '/api/v1/config')).toEqual(before);
  });
});
