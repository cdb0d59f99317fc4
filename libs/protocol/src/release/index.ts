export { DsseEnvelope, DsseSignature, paeEncode } from './dsse';
export { ReleaseError, isReleaseError, type ReleaseErrorCode } from './release-error';
export {
  keyIdOf,
  generateReleaseKeyPair,
  parsePrivateKey,
  trustedKeyFromPem,
  parseTrustedKeys,
  loadTrustedKeys,
  type TrustedKey,
  type ReleaseKeyPair,
} from './release-keys';
export {
  RELEASE_PAYLOAD_TYPE,
  IMAGE_BY_DIGEST,
  CHANNEL_PATTERN,
  ReleaseApp,
  ReleaseImage,
  ReleasePayload,
} from './release-payload';
export { signEnvelope, verifyEnvelope, decodeEnvelopePayload, type Signer } from './release-envelope';
export { rolloutBucket, inRollout, ROLLOUT_BUCKETS } from './rollout';
