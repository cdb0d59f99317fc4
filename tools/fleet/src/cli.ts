import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeError } from '@growoff/protocol';
import type { CliIo } from './cli-io';
import {
  candidateCommand,
  checklistCommand,
  promoteCommand,
  type CandidateFlags,
  type ChecklistFlags,
  type PromoteFlags,
} from './commands/candidate';
import { keygen, type KeygenFlags } from './commands/keygen';
import {
  floorCommand,
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
import { deleteCommand, revokeCommand, type RevokeFlags } from './commands/revoke-delete';
import { rotateKeysCommand, type RotateKeysFlags } from './commands/rotate-keys';
import { statusCommand, type StatusFlags } from './commands/status';
import { mqttConnectionOf, type CommonFlags } from './fleet-config';
import { FleetError } from './fleet-error';
import { MqttSession } from './mqtt-session';
import { STORE_OPTIONS, type StoreFlags } from './fleet-context';
import { RELEASE_OPTIONS, RELEASE_USAGE } from './release-source';

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
  offline(io: CliIo, flags: Flags): unknown;
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
  candidate: {
    synopsis: '--name vX.Y.Z-rcN --module ID[,ID] RELEASE [--checklist FILE]',
    summary: 'Signs the candidate, pins it to the test module(s), tags the commit, opens its checklist.',
    options: {
      ...RELEASE_OPTIONS,
      ...STORE_OPTIONS,
      module: { type: 'string' },
      checklist: { type: 'string' },
    },
    online: (io, session, flags) => candidateCommand(io, session, flags as CandidateFlags),
  },
  checklist: {
    synopsis: '--release vX.Y.Z-rcN [--tick ID[,ID]] [--untick ID] [--by WHO] [--note TEXT]',
    summary: "Shows or fills in a candidate's pre-release checklist (items: docs/RELEASING.md).",
    options: {
      ...STORE_OPTIONS,
      release: { type: 'string' },
      tick: { type: 'string' },
      untick: { type: 'string' },
      by: { type: 'string' },
      note: { type: 'string' },
    },
    offline: (io, flags) => checklistCommand(io, flags as ChecklistFlags),
  },
  promote: {
    synopsis: '--release vX.Y.Z-rcN --channel C --percent P [--no-ecr-tag]',
    summary:
      "Re-signs the candidate's exact digests as vX.Y.Z (checklist complete), tags them in ECR and git.",
    options: {
      ...STORE_OPTIONS,
      release: { type: 'string' },
      channel: { type: 'string' },
      percent: { type: 'string' },
      'no-ecr-tag': { type: 'boolean' },
    },
    online: (io, session, flags) => promoteCommand(io, session, flags as PromoteFlags),
  },
  publish: {
    synopsis: '--channel C --percent P (--release NAME | RELEASE | --envelope FILE)',
    summary: "Retains a release on the channel; apps it does not name are carried over from the channel's.",
    options: {
      ...RELEASE_OPTIONS,
      ...STORE_OPTIONS,
      channel: { type: 'string' },
      release: { type: 'string' },
    },
    online: (io, session, flags) => publishCommand(io, session, flags as PublishFlags),
  },
  rollout: {
    synopsis: '--channel C --percent P [--force]',
    summary: "Re-signs the channel's release at P% (0 pauses; narrowing to more than 0 needs --force).",
    options: {
      ...STORE_OPTIONS,
      channel: { type: 'string' },
      percent: { type: 'string' },
      force: { type: 'boolean' },
    },
    online: (io, session, flags) => rolloutCommand(io, session, flags as RolloutFlags),
  },
  pin: {
    synopsis: '--module ID[,ID] (--release NAME | RELEASE)',
    summary: 'Retains a release for those modules only (overrides their channel).',
    options: {
      ...RELEASE_OPTIONS,
      ...STORE_OPTIONS,
      module: { type: 'string' },
      release: { type: 'string' },
    },
    online: (io, session, flags) => pinCommand(io, session, flags as PinFlags),
  },
  unpin: {
    synopsis: '--module ID[,ID]',
    summary: 'A signed unpin: the module follows its channel again (taken when it comes back if offline).',
    options: { ...STORE_OPTIONS, module: { type: 'string' } },
    online: (io, session, flags) => unpinCommand(io, session, flags as PinFlags),
  },
  revoke: {
    synopsis: '--release NAME --reason TEXT [--app A[,A]]',
    summary:
      'Adds its images to the signed revocation list: never installed again, rolled back where running.',
    options: {
      ...STORE_OPTIONS,
      release: { type: 'string' },
      reason: { type: 'string' },
      app: { type: 'string' },
    },
    online: (io, session, flags) => revokeCommand(io, session, flags as RevokeFlags),
  },
  delete: {
    synopsis: '--release NAME [--app A[,A]]',
    summary: 'Deletes its images from ECR; refused while a channel or pin names it or a module runs it.',
    options: { ...STORE_OPTIONS, release: { type: 'string' }, app: { type: 'string' } },
    online: (io, session, flags) => deleteCommand(io, session, flags as RevokeFlags),
  },
  'rotate-keys': {
    synopsis: '--keys FILE|DIR',
    summary: 'Publishes the new trusted key set, signed with the current key (--key).',
    options: { ...STORE_OPTIONS, keys: { type: 'string' } },
    online: (io, session, flags) => rotateKeysCommand(io, session, flags as RotateKeysFlags),
  },
  sign: {
    synopsis: '(--channel C --percent P | --module ID) RELEASE [--sequence N] [--out FILE]',
    summary: 'Signs a release document offline (no broker) into a DSSE envelope (stdout or FILE).',
    options: {
      ...RELEASE_OPTIONS,
      ...STORE_OPTIONS,
      channel: { type: 'string' },
      module: { type: 'string' },
      sequence: { type: 'string' },
      out: { type: 'string' },
    },
    offline: (io, flags) => signCommand(io, flags as SignFlags),
  },
  floor: {
    synopsis: '--channel C',
    summary: 'Prints the replay floor the base installer gives a new module of channel C.',
    options: { ...STORE_OPTIONS, channel: { type: 'string' } },
    online: (io, session, flags) => floorCommand(io, session, flags as StoreFlags & { channel?: string }),
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
  .map(([name, c]) => `  ${name.padEnd(11)} ${c.synopsis}\n              ${c.summary}\n`)
  .join('')}
${RELEASE_USAGE}

Options for every command:
  --mqtt-url URL       broker (GROWOFF_MQTT_URL, default mqtt://127.0.0.1:1883); credentials and TLS
                       from GROWOFF_MQTT_USERNAME, _PASSWORD, _CA, _CERT, _KEY, _PROTOCOL_VERSION
  --key FILE           Ed25519 private signing key (GROWOFF_RELEASE_SIGNING_KEY)
  --trusted-keys PATH  PEM public keys the modules trust, file or folder (GROWOFF_RELEASE_KEYS)
  --store DIR          the release store: the fleet's sequence counter, releases, checklists
                       (GROWOFF_FLEET_STORE)
  --no-git-tag         do not tag the release's commit in git (candidate, promote, publish, pin)
ECR (promote, delete): GROWOFF_ECR_ENDPOINT (unset: AWS), AWS_REGION and the AWS credential chain.
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
