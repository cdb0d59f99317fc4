import { SIM_FAULTS } from '@growoff/hal';
import { getService } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCore } from '../src/core';
import { rest, startTestCore, uniqueModuleId } from './helpers';

describe('POST /api/v1/sim/faults', () => {
  let core: RunningCore;

  beforeAll(async () => {
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('sim-faults'),
      GROWOFF_MQTT_URL: getService('mosquitto').url,
    });
  });

  afterAll(async () => {
    await core?.stop();
  });

  it("documents and takes exactly the HAL's simulated faults", async () => {
    const openApi = (await rest(core, 'GET', '/docs/json')).body as unknown as {
      paths: Record<
        string,
        Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    const body = openApi.paths['/api/v1/sim/faults']!.post!.requestBody.content['application/json']!
      .schema as { properties: { fault: { anyOf: { const?: string; enum?: string[] }[] } } };
    const documented = body.properties.fault.anyOf.flatMap((f) => f.enum ?? [f.const]);
    expect(documented).toEqual([...SIM_FAULTS]);
    // Output-chip faults take an output chip, a cut wire a digital input; the rest any device.
    const targetOf = (fault: string) =>
      fault === 'brownout' || fault === 'readback-fail'
        ? 'pca9685'
        : fault === 'open-circuit'
          ? 'water_level'
          : 'sht3x';
    for (const fault of SIM_FAULTS) {
      const target = targetOf(fault);
      const injected = await rest(core, 'POST', '/api/v1/sim/faults', { target, fault });
      expect(injected, fault).toMatchObject({ status: 200, body: { injected: { target, fault } } });
      expect((await rest(core, 'DELETE', `/api/v1/sim/faults?target=${target}`)).status, fault).toBe(200);
    }
    const unknown = await rest(core, 'POST', '/api/v1/sim/faults', { target: 'sht3x', fault: 'meltdown' });
    expect(unknown.status).toBe(400);
  });
});
