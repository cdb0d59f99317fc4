import { describe, expect, it } from 'vitest';
import { buildJsonSchemas, REGENERATE_COMMAND, schemaDrift } from './schema-export';

describe('JSON Schema export', () => {
  it('generates a standalone file for every contract message', async () => {
    const files = await buildJsonSchemas();
    for (const name of [
      'StatusMessage',
      'SensorReading',
      'ActuatorCommand',
      'ActuatorState',
      'Request',
      'Response',
      'Event',
      'FleetPayload',
      'DsseEnvelope',
      'ErrorCode',
      'EventType',
      'RegisteredEvent',
    ]) {
      const text = files.get(`${name}.json`);
      expect(text, name).toBeDefined();
      const doc = JSON.parse(text!) as Record<string, unknown>;
      expect(doc.$id).toContain(`${name}.json`);
      expect(text!.match(/"\$id"/g)).toHaveLength(1);
    }
  });

  it(`matches the committed files in libs/protocol/schemas (regenerate with: ${REGENERATE_COMMAND})`, async () => {
    expect(await schemaDrift()).toEqual({ changed: [], missing: [], extra: [] });
  });
});
