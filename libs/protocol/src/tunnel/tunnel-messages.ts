import { Type, type Static } from '@sinclair/typebox';

/** The longest TTL a request may ask for; each module caps it further with GROWOFF_TUNNEL_MAX_TTL. */
export const TUNNEL_TTL_LIMIT_S = 7 * 24 * 3600;

/** `tunnel/req/open`: open (or extend) the reverse tunnel for `ttlSeconds`; `reason` goes to the audit trail. */
export const TunnelOpenRequest = Type.Object(
  {
    id: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Number()])),
    ttlSeconds: Type.Integer({ minimum: 1, maximum: TUNNEL_TTL_LIMIT_S }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { $id: 'TunnelOpenRequest', additionalProperties: false },
);
export type TunnelOpenRequest = Static<typeof TunnelOpenRequest>;

/** `tunnel/req/close`: close the on-demand tunnel now. */
export const TunnelCloseRequest = Type.Object(
  {
    id: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Number()])),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { $id: 'TunnelCloseRequest', additionalProperties: false },
);
export type TunnelCloseRequest = Static<typeof TunnelCloseRequest>;

export const TunnelState = Type.Union([
  Type.Literal('closed'),
  Type.Literal('connecting'),
  Type.Literal('open'),
  Type.Literal('error'),
]);
export type TunnelState = Static<typeof TunnelState>;

/**
 * Retained on `tunnel/status`. `state` is the app's liveness as for every `{app}/status` (the will
 * is `offline`); `tunnel` is the tunnel's own state. `remotePort` and `expiresAt` come with `open`
 * (no `expiresAt` when always-on); `reason` says why the tunnel is in its state (the request's
 * reason when open, the failure when error).
 */
export const TunnelStatus = Type.Object(
  {
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    version: Type.String(),
    ts: Type.Integer({ minimum: 0, description: 'milliseconds since the Unix epoch' }),
    tunnel: Type.Optional(TunnelState),
    alwaysOn: Type.Optional(Type.Boolean()),
    bastion: Type.Optional(Type.String()),
    remotePort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** When an on-demand tunnel closes by itself (ms epoch). */
    expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
    reason: Type.Optional(Type.String()),
    errorCode: Type.Optional(Type.String()),
  },
  { $id: 'TunnelStatus', additionalProperties: true },
);
export type TunnelStatus = Static<typeof TunnelStatus>;

/** The `result` of a successful open request. */
export const TunnelOpenResult = Type.Object(
  {
    tunnel: TunnelState,
    remotePort: Type.Integer({ minimum: 1, maximum: 65535 }),
    expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
    ttlSeconds: Type.Integer({ minimum: 1 }),
    capped: Type.Boolean(),
  },
  { $id: 'TunnelOpenResult' },
);
export type TunnelOpenResult = Static<typeof TunnelOpenResult>;
