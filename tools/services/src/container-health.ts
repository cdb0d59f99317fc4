import { execFileSync, spawnSync } from 'node:child_process';
import { waitUntil } from './process';

/**
 * Resolves once the container's HEALTHCHECK reports healthy; throws with its last log lines (stdout
 * and stderr) as soon as it stops, or after `timeoutMs`.
 */
export async function waitContainerHealthy(
  name: string,
  dockerHost: string,
  timeoutMs: number,
): Promise<void> {
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  await waitUntil(
    `${name} healthy`,
    () => {
      const state = JSON.parse(
        execFileSync('docker', ['inspect', '--format', '{{json .State}}', name], { env, encoding: 'utf8' }),
      ) as { Running: boolean; Health?: { Status: string } };
      if (!state.Running) {
        const logs = spawnSync('docker', ['logs', '--tail', '30', name], { env, encoding: 'utf8' });
        throw new Error(`${name} stopped:\n${logs.stdout}${logs.stderr}`);
      }
      return state.Health?.Status === 'healthy';
    },
    timeoutMs,
  );
}
