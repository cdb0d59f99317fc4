import { randomBytes } from 'node:crypto';
import { writeFleetBroker, type Credential, type FleetBrokerFiles } from '@growoff/broker-config';

export interface FleetCredentials {
  modules: Array<{ id: string; password: string }>;
  release: Credential;
  operator: Credential;
  broker: FleetBrokerFiles;
}

/**
 * Random passwords for `moduleIds`, a release identity and an operator, written as the fleet ACL and
 * password file in `dir` (for a Mosquitto started with `broker.config` in its configuration).
 */
export async function writeFleetCredentials(
  dir: string,
  moduleIds: readonly string[],
  brokerUser?: string,
): Promise<FleetCredentials> {
  const secret = () => randomBytes(12).toString('base64url');
  const modules = moduleIds.map((id) => ({ id, password: secret() }));
  const release = { username: 'growoff-release', password: secret() };
  const operator = { username: 'growoff-cloud', password: secret() };
  const broker = await writeFleetBroker({
    dir,
    modules: modules.map((m) => ({ username: m.id, password: m.password })),
    release,
    operators: [operator],
    brokerUser,
  });
  return { modules, release, operator, broker };
}

/** The broker URL with an identity's credentials in it (how the release CLI takes them). */
export function urlWithCredentials(url: string, who: Credential): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(who.username);
  parsed.password = encodeURIComponent(who.password);
  return parsed.toString();
}
