import { Type, type Static } from '@sinclair/typebox';

/** The DSSE payloadType of every signed fleet document; any other type is refused (BAD_PAYLOAD). */
export const FLEET_PAYLOAD_TYPE = 'application/vnd.growoff.fleet+json';
/** The payloadType of the single-app releases before fleet documents; refused, named for messages. */
export const LEGACY_RELEASE_PAYLOAD_TYPE = 'application/vnd.growoff.release+json';

/** Apps a fleet release may set. */
export const ReleaseApp = Type.Union([
  Type.Literal('core'),
  Type.Literal('telegraf'),
  Type.Literal('tunnel'),
  Type.Literal('updater'),
]);
export type ReleaseApp = Static<typeof ReleaseApp>;
export const RELEASE_APPS: readonly ReleaseApp[] = ['core', 'telegraf', 'tunnel', 'updater'];

/** An image pinned by content: `registry/repository@sha256:<64 hex>`; tags are not accepted. */
export const IMAGE_BY_DIGEST = '^[a-z0-9][a-z0-9._/:-]*@sha256:[a-f0-9]{64}$';
/** A revoked image: by digest with its repository, or the bare `sha256:<64 hex>` digest (any repository). */
export const REVOKED_IMAGE = '^(?:[a-z0-9][a-z0-9._/:-]*@)?sha256:[a-f0-9]{64}$';
/** A channel is one MQTT topic level: no `/`, `+` or `#`. */
export const CHANNEL_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';
/** A module id, as one MQTT topic level. */
export const MODULE_ID_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
/** A fleet release name: `vX.Y.Z` (final) or `vX.Y.Z-rcN` (candidate, N >= 1). */
export const FLEET_RELEASE_NAME = '^v(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)(?:-rc[1-9]\\d*)?$';
const SEMVER = '^\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$';
const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2})$';

/** Whether a text is a fleet release name (`vX.Y.Z` or `vX.Y.Z-rcN`). */
export function isFleetReleaseName(name: string): boolean {
  return new RegExp(FLEET_RELEASE_NAME).test(name);
}

export const ReleaseImage = Type.Object(
  {
    version: Type.String({ pattern: SEMVER }),
    image: Type.String({ pattern: IMAGE_BY_DIGEST }),
  },
  { additionalProperties: false },
);
export type ReleaseImage = Static<typeof ReleaseImage>;

/** The apps a release sets, each by version and digest; apps left out are left as they are. */
export const ReleaseApps = Type.Object(
  {
    core: Type.Optional(ReleaseImage),
    telegraf: Type.Optional(ReleaseImage),
    tunnel: Type.Optional(ReleaseImage),
    updater: Type.Optional(ReleaseImage),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ReleaseApps = Static<typeof ReleaseApps>;

/** A release for a channel, to the share of its modules whose rollout bucket is under `percent`. */
export const ChannelTarget = Type.Object(
  {
    channel: Type.String({ pattern: CHANNEL_PATTERN }),
    rollout: Type.Object(
      { percent: Type.Number({ minimum: 0, maximum: 100 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ChannelTarget = Static<typeof ChannelTarget>;

/** A release pinned to one module. */
export const ModuleTarget = Type.Object(
  { module: Type.String({ pattern: MODULE_ID_PATTERN }) },
  { additionalProperties: false },
);
export type ModuleTarget = Static<typeof ModuleTarget>;

/** What every document carries: the fleet-wide counter and when it was signed. */
const Issued = {
  /** From ONE fleet-wide counter (the release store); a module refuses any not above its floor. */
  sequence: Type.Integer({ minimum: 1 }),
  issuedAt: Type.String({ pattern: ISO_TIME }),
};

export const ReleaseDocument = Type.Object(
  {
    kind: Type.Literal('release'),
    ...Issued,
    name: Type.String({ pattern: FLEET_RELEASE_NAME }),
    apps: ReleaseApps,
    target: Type.Union([ChannelTarget, ModuleTarget]),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { $id: 'ReleaseDocument', additionalProperties: false },
);
export type ReleaseDocument = Static<typeof ReleaseDocument>;

/** Ends a module's pin: the channel release applies again. Retained on the module's release topic. */
export const UnpinDocument = Type.Object(
  {
    kind: Type.Literal('unpin'),
    ...Issued,
    module: Type.String({ pattern: MODULE_ID_PATTERN }),
  },
  { $id: 'UnpinDocument', additionalProperties: false },
);
export type UnpinDocument = Static<typeof UnpinDocument>;

export const RevokedRelease = Type.Object(
  {
    image: Type.String({ pattern: REVOKED_IMAGE }),
    /** The fleet release name the image was published under. */
    name: Type.String({ minLength: 1, maxLength: 64 }),
    reason: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);
export type RevokedRelease = Static<typeof RevokedRelease>;

/** Every revoked image so far (cumulative): never installed again; a module running one rolls back. */
export const RevocationDocument = Type.Object(
  {
    kind: Type.Literal('revocation'),
    ...Issued,
    revoked: Type.Array(RevokedRelease, { maxItems: 10_000 }),
  },
  { $id: 'RevocationDocument', additionalProperties: false },
);
export type RevocationDocument = Static<typeof RevocationDocument>;

/** The new set of trusted release keys; must be signed by a currently trusted key, and replaces them. */
export const KeySetDocument = Type.Object(
  {
    kind: Type.Literal('key-set'),
    ...Issued,
    keys: Type.Array(Type.String({ pattern: '-----BEGIN PUBLIC KEY-----', maxLength: 4096 }), {
      minItems: 1,
      maxItems: 32,
    }),
  },
  { $id: 'KeySetDocument', additionalProperties: false },
);
export type KeySetDocument = Static<typeof KeySetDocument>;

/** The payload of every signed fleet document. */
export const FleetPayload = Type.Union([ReleaseDocument, UnpinDocument, RevocationDocument, KeySetDocument], {
  $id: 'FleetPayload',
});
export type FleetPayload = Static<typeof FleetPayload>;
export type FleetDocumentKind = FleetPayload['kind'];

/** Whether `image` (`repo@sha256:…`) is the revoked entry `revoked` (`repo@sha256:…` or bare `sha256:…`). */
export function imageMatchesRevoked(image: string, revoked: string): boolean {
  if (image === revoked) return true;
  return revoked.startsWith('sha256:') && image.endsWith(`@${revoked}`);
}
