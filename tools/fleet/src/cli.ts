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

const COMMON = {
  'mqtt-url': { type: 'string' },
  key: { type: 'string' },
  'trusted-keys': { type: 'string' },
} as const;

type Flags = Record<string, string | boolean | undefined>;

interface CommandSpec {
  /** The options after the command name, as the usage prints them. */
  synopsis: string;
  summary: string;
  options: ParseArgsConfig['options'];
}

/** A command that needs no broker. */
interface OfflineCommand extends CommandSpec {
  offline(io: CliIo, flags: Flags): void;
}

/** A command that talks to the broker over one session, closed when it returns. */
interface BrokerCommand extends CommandSpec {
  online(io: CliIo, session: MqttSession, flags: Flags): Promise<unknown>;
  /** Whether the session reconnects when the broker goes away (the live view does). */
  reconnects?(flags: Flags): boolean;
}

// parseArgs gives each option the type its spec declares, which is what the command's flags type says.
const COMMANDS: Record<string, OfflineCommand | BrokerCommand> = {
  keygen: {
    synopsis: '[--out DIR] [--name NAME] [--force]',
    summary: 'Ed25519 key pair: NAME.key (private, 0600) and NAME.pub (for GROWOFF_RELEASE_KEYS).',
    options: { out: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } },
    offline: (io, flags) => keygen(io, flags as KeygenFlags),
  },
  sign: {
    synopsis: '--channel C --sequence N RELEASE [--out FILE]',
    summary: 'Signs a release offline into a DSSE envelope (stdout or FILE).',
    options: {
      ...RELEASE_OPTIONS,
      channel: { type: 'string' },
      sequence: { type: 'string' },
      out: { type: 'string' },
    },
    offline: (io, flags) => signCommand(io, flags as SignFlags),
  },
  publish: {
    synopsis: '--channel C (RELEASE | --envelope FILE)',
    summary: 'Retains the signed release on growoff/v1/fleet/releases/C with the next sequence.',
    options: { ...RELEASE_OPTIONS, channel: { type: 'string' } },
    online: (io, session, flags) => publishCommand(io, session, flags as PublishFlags),
  },
  pin: {
    synopsis: '--module ID [--channel C] (RELEASE | --envelope FILE)',
    summary: 'Retains a release for one module (overrides its channel; rollout 100% by default).',
    options: { ...RELEASE_OPTIONS, channel: { type: 'string' }, module: { type: 'string' } },
    online: (io, session, flags) => pinCommand(io, session, flags as PinFlags),
  },
  unpin: {
    synopsis: '--module ID',
    summary: "Clears the module's pinned release; it follows its channel again.",
    options: { module: { type: 'string' } },
    online: (io, session, flags) => unpinCommand(io, session, flags as PinFlags),
  },
  rollout: {
    synopsis: '--channel C --percent P [--force]',
    summary: "Re-signs the channel's release with rollout P% and a higher sequence.",
    options: { channel: { type: 'string' }, percent: { type: 'string' }, force: { type: 'boolean' } },
    online: (io, session, flags) => rolloutCommand(io, session, flags as RolloutFlags),
  },
  status: {
    synopsis: '[--once] [--json] [--prefix MODULE_PREFIX] [--channel C]',
    summary: 'The fleet from the retained core/updater statuses: live (Ctrl-C ends), or one table.',
    options: {
      once: { type: 'boolean' },
      json: { type: 'boolean' },
      prefix: { type: 'string' },
      channel: { type: 'string' },
    },
    online: (io, session, flags) => statusCommand(io, session, flags as StatusFlags),
    reconnects: (flags) => !flags.once,
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

export const USAGE = `Usage: npm run fleet -- <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.synopsis}\n           ${c.summary}\n`)
  .join('')}
RELEASE is --payload FILE (JSON) and/or --app core|telegraf --version V --image REPO@sha256:DIGEST
        --percent P [--notes TEXT] [--telegraf-image REPO@sha256:DIGEST --telegraf-version V]

Options for every command:
  --mqtt-url URL       broker (GROWOFF_MQTT_URL, default mqtt://127.0.0.1:1883); credentials and TLS
                       from GROWOFF_MQTT_USERNAME, _PASSWORD, _CA, _CERT, _KEY, _PROTOCOL_VERSION
  --key FILE           Ed25519 private signing key (GROWOFF_RELEASE_SIGNING_KEY)
  --trusted-keys PATH  PEM public keys the modules trust, file or folder (GROWOFF_RELEASE_KEYS)
`;

/** Runs one CLI command; returns the exit code (0 ok, 1 refused/failed, 2 usage). */
export async function runFleet(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.err : io.out)(USAGE);
    return name === undefined ? 2 : 0;
  }
  try {
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command)
      throw new FleetError('FLEET_USAGE', `unknown command '${name}' (see 'npm run fleet -- help')`);
    let flags: Flags;
    try {
      flags = parseArgs({ args: rest, options: { ...COMMON, ...command.options }, strict: true })
        .values as Flags;
    } catch (error) {
      throw new FleetError('FLEET_USAGE', `${name}: ${(error as Error).message}`);
    }
    await run(command, flags, io);
    return 0;
  } catch (error) {
    const { code, message } = describeError(error, 'FLEET_FAILED');
    io.err(`${code}: ${message}\n`);
    return code === 'FLEET_USAGE' || code === 'CONFIG_INVALID' ? 2 : 1;
  }
}

async function run(command: OfflineCommand | BrokerCommand, flags: Flags, io: CliIo): Promise<void> {
  if ('offline' in command) {
    command.offline(io, flags);
    return;
  }
  const session = await MqttSession.connect({
    connection: mqttConnectionOf(io, flags as CommonFlags),
    reconnect: command.reconnects?.(flags) ?? false,
  });
  try {
    await command.online(io, session, flags);
  } finally {
    await session.close();
  }
}
