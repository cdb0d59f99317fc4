import { CodedError } from '@growoff/protocol';

/** Why the tunnel refused a configuration, could not connect, or lost its forward. */
export type TunnelErrorCode =
  /** The module's private key cannot be read or parsed. */
  | 'TUNNEL_KEY_UNREADABLE'
  /** The module's key is not Ed25519. */
  | 'TUNNEL_KEY_NOT_ED25519'
  /** The bastion presented a host key other than the pinned one; nothing was sent to it. */
  | 'TUNNEL_HOSTKEY_MISMATCH'
  /** The bastion refused the module's key. */
  | 'TUNNEL_AUTH_REFUSED'
  /** TCP connect or SSH handshake to the bastion failed. */
  | 'TUNNEL_CONNECT_FAILED'
  /** Keepalives went unanswered: the link to the bastion is dead. */
  | 'TUNNEL_LINK_DEAD'
  /** The bastion closed the session. */
  | 'TUNNEL_SESSION_CLOSED'
  /** The bastion refused to listen on the remote port: still held by a dead session, or not permitted. */
  | 'TUNNEL_REMOTE_PORT_BUSY'
  /** The end-to-end probe through the bastion's port did not come back through this session. */
  | 'TUNNEL_PROBE_FAILED';

export class TunnelError extends CodedError<TunnelErrorCode> {
  override readonly name = 'TunnelError';
  declare readonly details?: Record<string, unknown>;
}

export function isTunnelError(value: unknown): value is TunnelError {
  return value instanceof TunnelError;
}
