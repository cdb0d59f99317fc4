import { loadTrustedKeys, topics } from '@growoff/protocol';
import { resolvePath, type CliIo } from '../cli-io';
import { fleetContext, type StoreFlags } from '../fleet-context';
import { FleetError } from '../fleet-error';
import type { MqttSession } from '../mqtt-session';
import { readRetainedDocument, signAndPublish } from '../signed-documents';
import type { PublishResult } from './release-commands';

export type RotateKeysFlags = StoreFlags & { keys?: string };

/**
 * rotate-keys --keys FILE|DIR: the new set of trusted release keys (public PEMs), signed with the
 * current key (--key), which the modules verify and then trust instead of their installed keys.
 */
export async function rotateKeysCommand(
  io: CliIo,
  session: MqttSession,
  flags: RotateKeysFlags,
): Promise<PublishResult> {
  if (!flags.keys)
    throw new FleetError('FLEET_USAGE', '--keys FILE|DIR (the public keys to trust from now on) is required');
  const keys = loadTrustedKeys(resolvePath(io, flags.keys));
  const context = fleetContext(io, session, flags);
  const pems = keys.map((k) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const topic = topics.fleetKeys();
  const current = await readRetainedDocument(session, topic, context.keys);
  const { payload, envelope } = await signAndPublish(
    context,
    topic,
    { kind: 'key-set', keys: pems },
    current?.sequence ?? 0,
  );
  const keeps = keys.some((k) => k.keyid === context.key.keyid);
  io.out(
    `published the key set (sequence ${payload.sequence}), signed by ${context.key.keyid}:\n` +
      keys.map((k) => `  ${k.keyid}`).join('\n') +
      '\n' +
      (keeps ? '' : '  the signing key is not in the new set: sign from now on with a key that is\n'),
  );
  return { topic, payload, envelope };
}
