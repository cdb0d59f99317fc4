import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerConfigError } from './broker-config-error';
import { fleetAcl } from './fleet-acl';
import { assertUsername, writePasswordFile, type Credential } from './password-file';

export interface FleetBrokerOptions {
  /** Where acl, passwords and mosquitto.conf snippet are written. */
  dir: string;
  /** Each module connects with its module id as username. */
  modules: readonly Credential[];
  release: Credential;
  operators?: readonly Credential[];
  /**
   * The system user Mosquitto runs as (Debian: `mosquitto`). Started as root, Mosquitto drops to it
   * before reading the password and ACL files, so they are handed to it (mode 0600); the folder must
   * be traversable by it.
   */
  brokerUser?: string;
}

export interface FleetBrokerFiles {
  aclFile: string;
  passwordFile: string;
  /** The lines to add to mosquitto.conf (also written to `fleet.conf` for `include_dir`). */
  config: string;
  configFile: string;
}

/**
 * The Mosquitto side of a fleet: no anonymous clients, a password per identity, and the fleet ACL.
 * Module ids must not collide with the identity names, or a module would get their rights.
 */
export async function writeFleetBroker(options: FleetBrokerOptions): Promise<FleetBrokerFiles> {
  mkdirSync(options.dir, { recursive: true });
  const identities = [options.release, ...(options.operators ?? [])];
  const identityNames = new Set(identities.map((i) => i.username));
  for (const m of options.modules) {
    assertUsername(m.username);
    if (identityNames.has(m.username)) {
      throw new BrokerConfigError(
        'BROKER_DUPLICATE_USER',
        `module id '${m.username}' is also the name of the release or an operator identity`,
        { username: m.username },
      );
    }
  }
  const aclFile = join(options.dir, 'acl');
  const passwordFile = join(options.dir, 'passwd');
  writeFileSync(
    aclFile,
    fleetAcl({
      release: options.release.username,
      operators: (options.operators ?? []).map((o) => o.username),
    }),
  );
  await writePasswordFile(passwordFile, [...identities, ...options.modules]);
  if (options.brokerUser) giveTo(options.brokerUser, [aclFile, passwordFile]);
  const config = ['allow_anonymous false', `password_file ${passwordFile}`, `acl_file ${aclFile}`].join('\n');
  const configFile = join(options.dir, 'fleet.conf');
  writeFileSync(configFile, config + '\n');
  return { aclFile, passwordFile, config, configFile };
}

function giveTo(user: string, files: string[]): void {
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  } catch {
    throw new BrokerConfigError('BROKER_NO_SUCH_USER', `the broker's system user '${user}' does not exist`, {
      user,
    });
  }
  for (const file of files) {
    chownSync(file, uid, gid);
    chmodSync(file, 0o600);
  }
}
