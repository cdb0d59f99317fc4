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
import { join } from 'node:path';
import {
  deployKey,
  deployedDependencies,
  ImageError,
  REPO_ROOT,
  runStep,
  type AppName,
} from '@growoff/images';
import { readServicesDir, type ArmTarget } from '@growoff/test-services';

/** The addons of a deploy, and which ones were cross-built or left out. */
export interface ArmAddons {
  built: string[];
  /** Optional addons whose cross-build failed: removed, as npm does with a failed optional dependency. */
  dropped: string[];
}

export interface ArmDeployment {
  app: AppName;
  target: ArmTarget;
  /** `dist/`, `package.json` and `node_modules/` as the image's /app holds them. */
  dir: string;
  addons: ArmAddons;
}

/** ssh2 runs without its optional cpu-features (it only picks a cipher order); i2c-bus is required. */
const OPTIONAL_ADDONS = new Set(['cpu-features']);

/** node-gyp as npm ships it, run by this machine's Node: it only drives the cross compilers. */
function nodeGyp(): string {
  const npmRoot = join(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  if (existsSync(npmRoot)) return npmRoot;
  return join(REPO_ROOT, 'node_modules/node-gyp/bin/node-gyp.js');
}

/** The packages under node_modules with a binding.gyp: the native addons. */
function addonsOf(nodeModules: string): string[] {
  const packages = readdirSync(nodeModules).flatMap((name) =>
    name.startsWith('@') ? readdirSync(join(nodeModules, name)).map((sub) => `${name}/${sub}`) : [name],
  );
  return packages.filter((name) => existsSync(join(nodeModules, name, 'binding.gyp'))).sort();
}

/** Rebuilds one addon with Debian's cross compilers against the target's Node headers. */
async function crossBuild(dir: string, target: ArmTarget, log?: (l: string) => void): Promise<void> {
  const tool = (name: string) => `/usr/bin/${target.triplet}-${name}`;
  await runStep(
    process.execPath,
    [nodeGyp(), 'rebuild', `--arch=${target.nodeArch}`, `--nodedir=${target.nodeDir}`],
    {
      cwd: dir,
      env: {
        ...process.env,
        CC: tool('gcc'),
        CXX: tool('g++'),
        LINK: tool('g++'),
        AR: tool('ar'),
        npm_config_arch: target.nodeArch,
        npm_config_nodedir: target.nodeDir,
      },
      code: 'IMAGE_DEPLOY_FAILED',
      what: `cross-building ${dir} for ${target.arch}`,
      log,
    },
  );
  rmSync(join(dir, 'build/Release/obj.target'), { recursive: true, force: true });
  rmSync(join(dir, 'build/Release/.deps'), { recursive: true, force: true });
}

/**
 * The app's production dependencies for an arm target: the same `pnpm deploy --prod` as the images,
 * with every native addon rebuilt by the cross compilers. Kept in the services' state dir (beside the
 * arm Node packages, so a fresh clone on this machine reuses it) until the lockfile, a manifest or
 * the target's Node changes; the app's bundle is copied in at each call.
 */
export async function armDeployment(
  app: AppName,
  target: ArmTarget,
  log?: (l: string) => void,
): Promise<ArmDeployment> {
  const cache = join(readServicesDir(), 'arm', 'deploy');
  const dir = join(cache, `${app}-${target.arch}-${target.nodeVersion}-${deployKey(app)}`);
  const addonsFile = join(dir, 'addons.json');
  if (!existsSync(addonsFile)) {
    const source = await deployedDependencies(app, log);
    mkdirSync(cache, { recursive: true });
    const fresh = mkdtempSync(join(cache, `.${app}-${target.arch}-`));
    try {
      cpSync(source, fresh, { recursive: true, verbatimSymlinks: true });
      const addons: ArmAddons = { built: [], dropped: [] };
      for (const name of addonsOf(join(fresh, 'node_modules'))) {
        try {
          await crossBuild(join(fresh, 'node_modules', name), target, log);
          addons.built.push(name);
        } catch (error) {
          if (!OPTIONAL_ADDONS.has(name)) throw error;
          log?.(
            `${name} (optional) did not cross-build for ${target.arch}; left out: ${(error as Error).message}`,
          );
          rmSync(join(fresh, 'node_modules', name), { recursive: true, force: true });
          addons.dropped.push(name);
        }
      }
      writeFileSync(join(fresh, 'addons.json'), JSON.stringify(addons));
      for (const old of readdirSync(cache).filter((n) => n.startsWith(`${app}-${target.arch}-`))) {
        rmSync(join(cache, old), { recursive: true, force: true });
      }
      if (!existsSync(addonsFile)) renameSync(fresh, dir);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  const dist = join(REPO_ROOT, 'apps', app, 'dist');
  if (!existsSync(join(dist, 'main.js')))
    throw new ImageError(
      'IMAGE_APP_BUILD_FAILED',
      `${dist}/main.js is missing: build it first (pnpm exec nx run ${app}:build)`,
    );
  cpSync(dist, join(dir, 'dist'), { recursive: true });
  return { app, target, dir, addons: JSON.parse(readFileSync(addonsFile, 'utf8')) as ArmAddons };
}
