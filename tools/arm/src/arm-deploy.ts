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

/**
 * The optional addons, as their packages treat them: ssh2 runs without cpu-features (it only picks a
 * cipher order) and without its own crypto binding (lib/protocol/crypto: Node's crypto then runs the
 * ciphers, slower). i2c-bus is required.
 */
const OPTIONAL_ADDONS = new Set(['cpu-features', 'ssh2/lib/protocol/crypto']);
/** Part of the cache key: a deploy made by an older layout of this file is made again. */
const LAYOUT = 3;

/** node-gyp as npm ships it, run by this machine's Node: it only drives the cross compilers. */
function nodeGyp(): string {
  const npmRoot = join(process.execPath, '../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  if (existsSync(npmRoot)) return npmRoot;
  return join(REPO_ROOT, 'node_modules/node-gyp/bin/node-gyp.js');
}

/** How deep inside a package a binding.gyp is looked for (ssh2's is three folders down). */
const PACKAGE_DEPTH = 3;

/** A native addon: its folder relative to node_modules, and whether that is its package's root. */
interface Addon {
  name: string;
  packageRoot: boolean;
}

/**
 * The native addons under node_modules: every folder with a binding.gyp, at a package's root (i2c-bus,
 * cpu-features) or inside it (ssh2's lib/protocol/crypto).
 */
function addonsOf(nodeModules: string): Addon[] {
  const found: Addon[] = [];
  const walk = (dir: string, rel: string, depth: number) => {
    if (existsSync(join(dir, 'binding.gyp'))) found.push({ name: rel, packageRoot: depth === PACKAGE_DEPTH });
    if (depth === 0) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || ['node_modules', 'build', 'test', 'deps'].includes(entry.name)) continue;
      walk(join(dir, entry.name), `${rel}/${entry.name}`, depth - 1);
    }
  };
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue;
    const packages = name.startsWith('@')
      ? readdirSync(join(nodeModules, name)).map((sub) => `${name}/${sub}`)
      : [name];
    for (const pkg of packages) walk(join(nodeModules, pkg), pkg, PACKAGE_DEPTH);
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Rebuilds one addon with Debian's cross compilers against the target's Node headers. */
async function crossBuild(dir: string, target: ArmTarget, log?: (l: string) => void): Promise<void> {
  const tool = (name: string) => `/usr/bin/${target.triplet}-${name}`;
  // Debian's Node (armv7) is built on the system's OpenSSL: its headers sit in the tree's include/,
  // with the architecture's own (openssl/configuration.h) in the multiarch folder, which the cross
  // compiler does not search by itself. ssh2's crypto binding needs them.
  const multiarch = join(target.nodeDir, 'include', target.triplet);
  const flags = existsSync(multiarch)
    ? { CFLAGS: `-isystem ${multiarch}`, CXXFLAGS: `-isystem ${multiarch}` }
    : {};
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
        ...flags,
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
  const dir = join(cache, `${app}-${target.arch}-${target.nodeVersion}-${deployKey(app)}-l${LAYOUT}`);
  const addonsFile = join(dir, 'addons.json');
  if (!existsSync(addonsFile)) {
    const source = await deployedDependencies(app, log);
    mkdirSync(cache, { recursive: true });
    const fresh = mkdtempSync(join(cache, `.${app}-${target.arch}-`));
    try {
      cpSync(source, fresh, { recursive: true, verbatimSymlinks: true });
      const addons: ArmAddons = { built: [], dropped: [] };
      for (const { name, packageRoot } of addonsOf(join(fresh, 'node_modules'))) {
        try {
          await crossBuild(join(fresh, 'node_modules', name), target, log);
          addons.built.push(name);
        } catch (error) {
          if (!OPTIONAL_ADDONS.has(name)) throw error;
          log?.(
            `${name} (optional) did not cross-build for ${target.arch}; left out: ${(error as Error).message}`,
          );
          // A package-root addon goes with its package, as npm drops a failed optional dependency; a
          // binding inside a package loses only its build, which still holds the host's binary.
          rmSync(join(fresh, 'node_modules', name, packageRoot ? '' : 'build'), {
            recursive: true,
            force: true,
          });
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
