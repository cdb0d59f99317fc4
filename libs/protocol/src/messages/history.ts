import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common';

/** Most points one history answer may hold: (to − from) / step. */
export const HISTORY_MAX_POINTS = 5000;
/** Finest bucket (ms) a history query may ask for. */
export const HISTORY_MIN_STEP_MS = 1000;

/** `core/req/get_history` and `GET /api/v1/sensors/{id}/history`: defaults to the last hour. */
export const HistoryQuery = Type.Object(
  {
    sensor: Type.String({ minLength: 1, maxLength: 64 }),
    from: Type.Optional(Timestamp),
    to: Type.Optional(Timestamp),
    step: Type.Optional(
      Type.Integer({ minimum: HISTORY_MIN_STEP_MS, maximum: 86_400_000, description: 'bucket width, ms' }),
    ),
  },
  { $id: 'HistoryQuery', additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

/**
 * One bucket: its start (ms) and the mean of the good readings in it, or null when there were none.
 * An array of two rather than a tuple: fast-json-stringify cannot serialise an anyOf inside a tuple.
 */
export const HistoryPoint = Type.Array(Type.Union([Type.Number(), Type.Null()]), {
  $id: 'HistoryPoint',
  minItems: 2,
  maxItems: 2,
  description: '[bucket start (ms), mean of the good readings or null]',
});

export const History = Type.Object(
  {
    sensor: Type.String(),
    unit: Type.String(),
    from: Timestamp,
    to: Timestamp,
    step: Type.Integer({ minimum: 1 }),
    points: Type.Array(HistoryPoint),
  },
  { $id: 'History' },
);
export type History = Static<typeof History>;
