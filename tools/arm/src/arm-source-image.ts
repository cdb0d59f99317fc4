import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { appVersion, labelPlatform, REPO_ROOT, revision, runStep, type AppName } from '@growoff/images';
import type { ArmTarget } from '@growoff/test-services';

export interface ArmSourceImage {
  app: AppName;
  tag: string;
  seconds: number;
}

/**
 * The repository's files as CI's build context has them: tracked and new files, not what is ignored
 * (node_modules, dist). The engine's legacy builder (no buildx here) does not read
 * docker/app/Dockerfile.dockerignore, so the context is made from git's list instead.
 */
function contextFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return listed
    .split('\0')
    .filter(
      (f) => f !== '' && existsSync(join(REPO_ROOT, f)) && !lstatSync(join(REPO_ROOT, f)).isDirectory(),
    );
}

/**
 * Builds the app's image for an arm target through the APP_DEPS=source path, as CI's buildx build
 * does: the build stage (the target's build base, with a compiler) runs `pnpm install`, the app's
 * build, i2c-bus's compile and `pnpm deploy` under qemu; the image is the target's run base plus
 * that. The engine's layer cache keeps every step while the context is unchanged, so a second build
 * of the same sources takes seconds. The build stage reaches the npm registry on the host's network.
 */
export async function buildArmSourceImage(
  app: AppName,
  target: ArmTarget,
  tag: string,
  dockerHost: string,
  log?: (l: string) => void,
): Promise<ArmSourceImage> {
  const started = Date.now();
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  const list = contextFiles().join('\n');
  const build = [
    'docker build --network host --file docker/app/Dockerfile',
    `--tag ${tag}`,
    `--build-arg BASE_IMAGE=${target.baseImage}`,
    `--build-arg BUILD_IMAGE=${target.buildBaseImage}`,
    `--build-arg APP=${app}`,
    '--build-arg APP_DEPS=source',
    `--build-arg VERSION=${appVersion(app)}`,
    `--build-arg REVISION=${revision()}`,
    '-',
  ].join(' ');
  await runStep('sh', ['-c', `printf '%s\\n' "$FILES" | tar --verbatim-files-from -T - -c | ${build}`], {
    cwd: REPO_ROOT,
    env: { ...env, FILES: list },
    code: 'IMAGE_BUILD_FAILED',
    what: `the source build of ${tag} for ${target.platform}`,
    log,
  });
  labelPlatform(tag, target.platform, env);
  return { app, tag, seconds: (Date.now() - started) / 1000 };
}
