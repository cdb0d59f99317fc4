import { Type } from '@sinclair/typebox';

/** Milliseconds since the Unix epoch. */
export const Timestamp = Type.Integer({ minimum: 0, description: 'milliseconds since the Unix epoch' });

/** Correlates a response with its request; echoed back unchanged. */
export const MessageId = Type.Union([Type.String({ maxLength: 128 }), Type.Number()], {
  description: 'client-chosen id, echoed in the response',
});

export const Severity = Type.Union(
  [
    Type.Literal('debug'),
    Type.Literal('info'),
    Type.Literal('warning'),
    Type.Literal('error'),
    Type.Literal('critical'),
  ],
  { $id: 'Severity' },
);
