import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import {
  AckAlarmRequest,
  Alarm,
  CalibrationRequest,
  CalibrationStatus,
  History,
  HISTORY_MIN_STEP_MS,
  Timestamp,
} from '@growoff/protocol';

const IdParams = Type.Object({ id: Type.String() });

/**
 * History, calibration and alarm routes. Each calls the same command-path method an MQTT request
 * names (`get_history`, `get_calibration`, `calibrate`, `get_alarms`, `ack_alarm`).
 */
export function registerDataRoutes(
  app: FastifyInstance,
  run: (method: string, params: unknown) => Promise<never>,
  errors: Record<number, TSchema>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.get(
    '/api/v1/sensors/:id/history',
    {
      schema: {
        tags: ['history'],
        description:
          'Buckets of `step` ms from `from` (aligned down to a multiple of step) to `to`; each point is `[start, mean of the good readings | null]`. Defaults: the last hour, at most 360 points. Raw readings for the last hours, minute means for up to 7 days.',
        params: IdParams,
        querystring: Type.Object(
          {
            from: Type.Optional(Timestamp),
            to: Type.Optional(Timestamp),
            step: Type.Optional(Type.Integer({ minimum: HISTORY_MIN_STEP_MS, maximum: 86_400_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: History, ...errors },
      },
    },
    (req) => run('get_history', { ...req.query, sensor: req.params.id }),
  );
  typed.get(
    '/api/v1/sensors/:id/calibration',
    {
      schema: {
        tags: ['calibration'],
        description:
          'Points since the last clear, dates, the reminder (`due`), and the software offset and scale.',
        params: IdParams,
        response: { 200: CalibrationStatus, ...errors },
      },
    },
    (req) => run('get_calibration', { sensor: req.params.id }),
  );
  typed.post(
    '/api/v1/sensors/:id/calibration',
    {
      schema: {
        tags: ['calibration'],
        description:
          'One step: pH `mid`|`low`|`high` with the buffer pH; EC `dry`, `single`|`low`|`high` with µS/cm; CO2 `forced` with ppm; any sensor `offset` (`value` = offset, `scale`); `clear`. 400 INVALID_MESSAGE for a step the sensor does not take or the device refuses, 503 UNAVAILABLE when the device does not answer.',
        params: IdParams,
        body: CalibrationRequest,
        response: { 200: CalibrationStatus, ...errors },
      },
    },
    (req) => run('calibrate', { ...req.body, sensor: req.params.id }),
  );
  typed.get(
    '/api/v1/alarms',
    { schema: { tags: ['alarms'], response: { 200: Type.Object({ alarms: Type.Array(Alarm) }) } } },
    () => run('get_alarms', {}),
  );
  typed.post(
    '/api/v1/alarms/ack',
    {
      schema: {
        tags: ['alarms'],
        description:
          'Acknowledge an active alarm; 404 NOT_FOUND when there is none for that sensor and limit.',
        body: AckAlarmRequest,
        response: { 200: Alarm, ...errors },
      },
    },
    (req) => run('ack_alarm', req.body),
  );
}
