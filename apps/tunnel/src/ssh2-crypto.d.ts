/** ssh2's crypto module (no types of its own): whether its optional native binding loaded. */
declare module 'ssh2/lib/protocol/crypto.js' {
  const crypto: { bindingAvailable: boolean };
  export default crypto;
}
