export {
  TUNNEL_TTL_LIMIT_S,
  TunnelOpenRequest,
  TunnelCloseRequest,
  TunnelState,
  TunnelStatus,
  TunnelOpenResult,
} from './tunnel-messages';
