import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeError } from '@growoff/protocol';
import type { CliIo } from './cli-io';
import { keygen, type KeygenFlags } from './commands/keygen';
import {
  pinCommand,
  publishCommand,
  rolloutCommand,
  signCommand,
  unpinCommand,
  type PinFlags,
  type PublishFlags,
  type RolloutFlags,
  type SignFlags,
} from './commands/release-commands';
import { statusCommand, type StatusFlags } from './commands/status';
import { mqttConnectionOf, type CommonFlags } from './fleet-config';
import { FleetError } from './fleet-error';
import { MqttSession } from './mqtt-session';
import { RELEASE_OPTIONS } from './release-source';

export const USAGE = `Usage: npm run fleet -- <command> [options]

Commands:
  keygen   [--out DIR] [--name NAME] [--force]
           Ed25519 key pair: NAME.key (private, 0600) and NAME.pub (for GROWOFF_RELEASE_KEYS).
  sign     --channel C --sequence N RELEASE [--out FILE]
           Signs a release offline into a DSSE envelope (stdout or FILE).
  publish  --channel C (RELEASE | --envelope FILE)
           Retains the signed release on growoff/v1/fleet/releases/C with the next sequence.
  pin      --module ID [--channel C] (RELEASE | --envelope FILE)
           Retains a release for one module (overrides its channel; rollout 100% by default).
  unpin    --module ID
           Clears the module's pinned release; it follows its channel again.
  rollout  --channel C --percent P [--force]
           Re-signs the channel's release with rollout P% and a higher sequence.
  status   [--once] [--json] [--prefix MODULE_PREFIX] [--channel C]
           The fleet from the retained core/updater statuses: live (Ctrl-C ends), or one table.

RELEASE is --payload FILE (JSON) and/or --app core|telegraf --version V --image REPO@sha256:DIGEST
        --percent P [--notes TEXT] [--telegraf-image REPO@sha256:DIGEST --telegraf-version V]

Options for every command:
  --mqtt-url URL       broker (GROWOFF_MQTT_URL, default mqtt://127.0.0.1:1883); credentials and TLS
                       from GROWOFF_MQTT_USERNAME, _PASSWORD, _CA, _CERT, _KEY, _PROTOCOL_VERSION
  --key FILE           Ed25519 private signing key (GROWOFF_RELEASE_SIGNING_KEY)
  --trusted-keys PATH  PEM public keys the modules trust, file or folder (GROWOFF_RELEASE_KEYS)
`;

const COMMON = {
  'mqtt-url': { type: 'string' },
  key: { type: 'string' },
  'trusted-keys': { type: 'string' },
} as const;

const COMMANDS = {
  keygen: { out: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } },
  sign: {
    ...RELEASE_OPTIONS,
    channel: { type: 'string' },
    sequence: { type: 'string' },
    out: { type: 'string' },
  },
  publish: { ...RELEASE_OPTIONS, channel: { type: 'string' } },
  pin: { ...RELEASE_OPTIONS, channel: { type: 'string' }, module: { type: 'string' } },
  unpin: { module: { type: 'string' } },
  rollout: { channel: { type: 'string' }, percent: { type: 'string' }, force: { type: 'boolean' } },
  status: {
    once: { type: 'boolean' },
    json: { type: 'boolean' },
    prefix: { type: 'string' },
    channel: { type: 'string' },
  },
} satisfies Record<string, ParseArgsConfig['options']>;

type Command = keyof typeof COMMANDS;
type Flags = Record<string, string | boolean | undefined>;

/** Runs one CLI command; returns the exit code (0 ok, 1 refused/failed, 2 usage). */
export async function runFleet(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(USAGE);
    return name === undefined ? 2 : 0;
  }
  try {
    if (!(name in COMMANDS))
      throw new FleetError('FLEET_USAGE', `unknown command '${name}' (see 'npm run fleet -- help')`);
    const command = name as Command;
    let values: Flags;
    try {
      // parseArgs gives each option the type its spec declares, which is what the command flags say.
      values = parseArgs({ args: rest, options: { ...COMMON, ...COMMANDS[command] }, strict: true })
        .values as Flags;
    } catch (error) {
      throw new FleetError('FLEET_USAGE', `${command}: ${(error as Error).message}`);
    }
    await run(command, values, io);
    return 0;
  } catch (error) {
    const { code, message } = describeError(error, 'FLEET_FAILED');
    io.err(`${code}: ${message}\n`);
    return code === 'FLEET_USAGE' || code === 'CONFIG_INVALID' ? 2 : 1;
  }
}

async function run(command: Command, flags: Flags, io: CliIo): Promise<void> {
  switch (command) {
    case 'keygen':
      keygen(io, flags as KeygenFlags);
      return;
    case 'sign':
      signCommand(io, flags as SignFlags);
      return;
  }
  const session = await MqttSession.connect({
    connection: mqttConnectionOf(io, flags as CommonFlags),
    reconnect: command === 'status' && !flags.once,
  });
  try {
    switch (command) {
      case 'publish':
        await publishCommand(io, session, flags as PublishFlags);
        return;
      case 'pin':
        await pinCommand(io, session, flags as PinFlags);
        return;
      case 'unpin':
        await unpinCommand(io, session, flags as PinFlags);
        return;
      case 'rollout':
        await rolloutCommand(io, session, flags as RolloutFlags);
        return;
      case 'status':
        await statusCommand(io, session, flags as StatusFlags);
        return;
    }
  } finally {
    await session.close();
  }
}
