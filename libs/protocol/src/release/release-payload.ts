import { Type, type Static } from '@sinclair/typebox';

/** The DSSE payloadType of a GrowOff release; any other type is refused. */
export const RELEASE_PAYLOAD_TYPE = 'application/vnd.growoff.release+json';

/** Apps the updater keeps at a release. */
export const ReleaseApp = Type.Union([Type.Literal('core'), Type.Literal('telegraf')]);
export type ReleaseApp = Static<typeof ReleaseApp>;

/** An image pinned by content: `registry/repository@sha256:<64 hex>`; tags are not accepted. */
export const IMAGE_BY_DIGEST = '^[a-z0-9][a-z0-9._/:-]*@sha256:[a-f0-9]{64}$';
/** A channel is one MQTT topic level: no `/`, `+` or `#`. */
export const CHANNEL_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';
const SEMVER = '^\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$';
const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2})$';

export const ReleaseImage = Type.Object({
  version: Type.String({ pattern: SEMVER }),
  image: Type.String({ pattern: IMAGE_BY_DIGEST }),
});
export type ReleaseImage = Static<typeof ReleaseImage>;

export const ReleasePayload = Type.Object(
  {
    app: ReleaseApp,
    version: Type.String({ pattern: SEMVER }),
    image: Type.String({ pattern: IMAGE_BY_DIGEST }),
    channel: Type.String({ pattern: CHANNEL_PATTERN }),
    /** Strictly increasing per channel (and per pin); a module refuses a lower or equal one. */
    sequence: Type.Integer({ minimum: 1 }),
    issuedAt: Type.String({ pattern: ISO_TIME }),
    rollout: Type.Object({ percent: Type.Number({ minimum: 0, maximum: 100 }) }),
    /** The Telegraf agent's image for this release, kept by the same machinery. */
    telegraf: Type.Optional(ReleaseImage),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { $id: 'ReleasePayload' },
);
export type ReleasePayload = Static<typeof ReleasePayload>;
