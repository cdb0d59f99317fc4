import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common';

/** `POST /api/v1/session`: the REST token, exchanged for a session cookie. */
export const SignInRequest = Type.Object(
  { token: Type.String({ maxLength: 1024 }) },
  { $id: 'SignInRequest', additionalProperties: false },
);
export type SignInRequest = Static<typeof SignInRequest>;

/** `GET /api/v1/session`: whether the API needs a sign-in and whether the caller has one. */
export const SessionState = Type.Object(
  { required: Type.Boolean(), authenticated: Type.Boolean() },
  { $id: 'SessionState', additionalProperties: false },
);
export type SessionState = Static<typeof SessionState>;

/**
 * One app's status as the console shows it: the core's own, or the updater's and tunnel's retained
 * `{app}/status` (null when none is retained; `error` when what is retained cannot be used).
 */
export const AppStatusEntry = Type.Object(
  {
    app: Type.Union([Type.Literal('core'), Type.Literal('updater'), Type.Literal('tunnel')]),
    status: Type.Union([Type.Object({ state: Type.String() }, { additionalProperties: true }), Type.Null()]),
    error: Type.Optional(Type.String()),
    receivedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'AppStatusEntry', additionalProperties: false },
);
export type AppStatusEntry = Static<typeof AppStatusEntry>;

/** `GET /api/v1/apps`. */
export const AppStatusList = Type.Object(
  { apps: Type.Array(AppStatusEntry) },
  { $id: 'AppStatusList', additionalProperties: false },
);
export type AppStatusList = Static<typeof AppStatusList>;
