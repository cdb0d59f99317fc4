import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAppName, type AppName } from './apps';
import { ImageError, type ImageErrorCode } from './image-error';
import { labelPlatform } from './platform-label';
import { REPO_ROOT, appDir, appVersion, revision } from './workspace';

export const DEFAULT_BASE_IMAGE = 'node:22-bookworm-slim';

/** The one Dockerfile of the Node apps; its APP build argument picks the app. */
export const APP_DOCKERFILE = join(REPO_ROOT, 'docker/app/Dockerfile');

export interface BuildImageOptions {
  app: AppName;
  tag: string;
  /** Default node:22-bookworm-slim, as in the Dockerfiles. */
  baseImage?: string;
  /**
   * 'prepared': production dependencies are deployed on this machine and the image is
   * built from a small context; the base image must run this machine's architecture and Node ABI.
   * 'source' (default, as the Dockerfiles): the Dockerfile's build stage does it all from the repository (needs BuildKit for the
   * Dockerfile's own .dockerignore, a toolchain or apt in the base image, and the npm registry).
   */
  deps?: 'prepared' | 'source';
  /**
   * The image's platform (`linux/arm64`, `linux/arm/v7`) when the base image is of another CPU than
   * the engine's; default the engine's own.
   */
  platform?: string;
  /**
   * For 'prepared' on another CPU: the production dependencies made for it (e.g. cross-built by
   * @growoff/arm) and the target Node's `process.arch` and `process.versions.modules`, which the
   * build stage checks. Default: `pnpm deploy` on this machine, for its own CPU and Node.
   */
  preparedFor?: { dir: string; arch: string; modules: string };
  /** DOCKER_HOST for the docker CLI; default the environment's. */
  dockerHost?: string;
  /**
   * Build the app's bundle first (tsup); default true. Tests pass false and use the bundle their
   * run built: a rebuild rewrites `dist/` while other tests of the same run start the built apps.
   */
  buildApp?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  app: AppName;
  tag: string;
  version: string;
  revision: string;
  seconds: number;
}

/** Runs a build tool; fails with `code` and the tool's last output lines. */
export function runStep(
  cmd: string,
  args: string[],
  opts: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    code: ImageErrorCode;
    what: string;
    log?: (l: string) => void;
  },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        opts.log?.(line);
        tail.push(line);
        if (tail.length > 15) tail.shift();
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => reject(new ImageError(opts.code, `${opts.what}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new ImageError(opts.code, `${opts.what} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}

const DEPLOY_CACHE = join(REPO_ROOT, 'node_modules/.cache/growoff-images');

/**
 * What an app's production dependencies depend on: the lockfile, the manifests of the app and the
 * workspace libraries, and the Node that builds the native addon.
 */
export function deployKey(app: AppName): string {
  const hash = createHash('sha256');
  const manifests = [
    'pnpm-lock.yaml',
    `apps/${app}/package.json`,
    ...readdirSync(join(REPO_ROOT, 'libs')).map((lib) => `libs/${lib}/package.json`),
  ];
  for (const file of manifests) {
    if (existsSync(join(REPO_ROOT, file))) hash.update(file).update(readFileSync(join(REPO_ROOT, file)));
  }
  hash.update(`${process.arch} ${process.versions.modules}`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * The app's `pnpm deploy --prod` (flat node_modules, the native addon built here), kept in
 * node_modules/.cache until its key changes: the deploy is the slow part of an image build.
 */
export async function deployedDependencies(app: AppName, log?: (l: string) => void): Promise<string> {
  const cached = join(DEPLOY_CACHE, `${app}-${deployKey(app)}`);
  if (existsSync(cached)) return cached;
  mkdirSync(DEPLOY_CACHE, { recursive: true });
  const fresh = mkdtempSync(join(DEPLOY_CACHE, `.${app}-`));
  try {
    // pnpm deploy installs from the shared store; the workspace's pnpm lock keeps it one at a time.
    await runStep(
      'flock',
      [
        '/tmp/growoff-pnpm.lock',
        'pnpm',
        '--filter',
        `@growoff/${app}`,
        'deploy',
        '--prod',
        '--legacy',
        '--config.node-linker=hoisted',
        join(fresh, 'app'),
      ],
      { cwd: REPO_ROOT, code: 'IMAGE_DEPLOY_FAILED', what: `pnpm deploy of @growoff/${app}`, log },
    );
    for (const old of readdirSync(DEPLOY_CACHE).filter((name) => name.startsWith(`${app}-`))) {
      rmSync(join(DEPLOY_CACHE, old), { recursive: true, force: true });
    }
    // A concurrent build may have filled the same key meanwhile; either copy is the same.
    if (!existsSync(cached)) renameSync(join(fresh, 'app'), cached);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
  return cached;
}

/** The folder of the app's built bundle (in `packageDir`, default the app's package), if it is there. */
export function builtBundle(app: AppName, packageDir = appDir(app)): string {
  const bundle = join(packageDir, 'dist');
  if (!existsSync(join(bundle, 'main.js')))
    throw new ImageError(
      'IMAGE_APP_NOT_BUILT',
      `${bundle}/main.js is missing: build the app first (pnpm exec nx run ${app}:build), or leave out --skip-app-build`,
    );
  return bundle;
}

/**
 * The build context of APP_DEPS=prepared: the app's production dependencies with its bundle, the
 * marker the build stage checks, and the stage scripts.
 */
async function prepareContext(
  app: AppName,
  dir: string,
  preparedFor: BuildImageOptions['preparedFor'],
  log?: (l: string) => void,
): Promise<void> {
  const deployDir = join(dir, '.prepared/app');
  const bundle = builtBundle(app);
  const deps = preparedFor?.dir ?? (await deployedDependencies(app, log));
  cpSync(deps, deployDir, { recursive: true, verbatimSymlinks: true });
  rmSync(join(deployDir, 'dist'), { recursive: true, force: true });
  cpSync(bundle, join(deployDir, 'dist'), { recursive: true });
  writeFileSync(
    join(dir, '.prepared/prepared.json'),
    JSON.stringify({
      app,
      arch: preparedFor?.arch ?? process.arch,
      modules: preparedFor?.modules ?? process.versions.modules,
    }),
  );
  mkdirSync(join(dir, 'tools/images'), { recursive: true });
  cpSync(join(REPO_ROOT, 'tools/images/stage'), join(dir, 'tools/images/stage'), { recursive: true });
}

/** Builds the app's image from docker/app/Dockerfile into `tag`, labelled with the app's package version. */
export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  const { app, tag, log } = options;
  if (!isAppName(app)) throw new ImageError('IMAGE_UNKNOWN_APP', `unknown app '${String(app)}'`);
  const started = Date.now();
  const deps = options.deps ?? 'source';
  const version = appVersion(app);
  const rev = revision();
  const env = options.dockerHost ? { ...process.env, DOCKER_HOST: options.dockerHost } : process.env;

  if (options.buildApp ?? true) {
    await runStep('pnpm', ['--filter', `@growoff/${app}`, 'run', 'build'], {
      cwd: REPO_ROOT,
      code: 'IMAGE_APP_BUILD_FAILED',
      what: `building @growoff/${app}`,
      log,
    });
  }

  const context = deps === 'prepared' ? mkdtempSync(join(tmpdir(), `growoff-image-${app}-`)) : REPO_ROOT;
  try {
    if (deps === 'prepared') await prepareContext(app, context, options.preparedFor, log);
    const args = [
      'build',
      '--file',
      APP_DOCKERFILE,
      '--tag',
      tag,
      '--build-arg',
      `BASE_IMAGE=${options.baseImage ?? DEFAULT_BASE_IMAGE}`,
      '--build-arg',
      `APP=${app}`,
      '--build-arg',
      `APP_DEPS=${deps}`,
      '--build-arg',
      `VERSION=${version}`,
      '--build-arg',
      `REVISION=${rev}`,
      context,
    ];
    await runStep('docker', args, {
      cwd: REPO_ROOT,
      env,
      code: 'IMAGE_BUILD_FAILED',
      what: `docker build of ${tag}`,
      log,
    });
    if (options.platform) labelPlatform(tag, options.platform, env);
  } finally {
    if (deps === 'prepared') rmSync(context, { recursive: true, force: true });
  }
  return { app, tag, version, revision: rev, seconds: (Date.now() - started) / 1000 };
}
