import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureArm } from './arm';
import { down, status, up } from './runner';
import { SERVICE_NAMES, readState, stateFile, type ServiceName } from './state';
import { summarize } from './test-report';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

function parseNames(args: string[]): ServiceName[] {
  if (args.length === 0) return SERVICE_NAMES;
  for (const arg of args) {
    if (!SERVICE_NAMES.includes(arg as ServiceName)) {
      throw new Error(`unknown service '${arg}'; the services are: ${SERVICE_NAMES.join(', ')}`);
    }
  }
  return args as ServiceName[];
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit', env });
  return result.status ?? 1;
}

/** Like `run`, but leaves the event loop free so an interrupt can still stop the services. */
function runAsync(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', env });
    child.once('error', () => resolve(1));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const RESULTS_FILE = '.tmp/vitest-results.json';
/** The source-built arm images write their own report (tools/arm/vitest.source.config.ts). */
const SOURCE_RESULTS_FILE = '.tmp/vitest-source-results.json';

/** What `test` runs: the whole suite, the arm checks, or the arm images built from source. */
type Suite = 'test' | 'test-arm' | 'test-arm-source';

function projectDirs(): string[] {
  return ['apps', 'libs', 'tools'].flatMap((group) => {
    const base = join(repoRoot, group);
    return existsSync(base) ? readdirSync(base).map((name) => join(base, name)) : [];
  });
}

/**
 * The whole suite: format, services up, lint + typecheck + build + test through Nx, services down.
 * With `test-arm`, instead the arm checks (`test-arm` targets: the apps and images under qemu, tens
 * of minutes), after setting up qemu, the cross toolchains, the arm Node and base images (made once);
 * with `test-arm-source`, the arm images built as CI builds them, every step under qemu (an hour).
 */
async function test(extra: string[], suite: Suite = 'test'): Promise<number> {
  const arm = suite !== 'test';
  const resultsFile = suite === 'test-arm-source' ? SOURCE_RESULTS_FILE : RESULTS_FILE;
  for (const dir of projectDirs()) rmSync(join(dir, resultsFile), { force: true });
  if (run('pnpm', ['exec', 'prettier', '--check', '.']) !== 0) {
    console.error('npm test: formatting differs; run `pnpm format`');
    return 1;
  }
  // The benchmark scripts belong to no package; the root tsconfig typechecks them.
  if (run('pnpm', ['exec', 'tsc', '-p', 'tsconfig.json']) !== 0) {
    console.error('npm test: bench/ does not typecheck');
    return 1;
  }
  const { started } = await up();
  if (arm) ensureArm(readState().dir, readState().services.docker?.host);
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 1;
  try {
    const env = {
      ...process.env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      GROWOFF_SERVICES_FILE: stateFile(readState().dir),
    };
    code = await runAsync(
      'pnpm',
      [
        'exec',
        'nx',
        'run-many',
        '-t',
        ...(arm ? [suite] : ['lint', 'typecheck', 'build', 'test']),
        '--parallel=2',
        '--outputStyle=stream',
        ...extra,
      ],
      env,
    );
  } finally {
    const stopped = await down(started);
    if (stopped.length > 0) console.error(`services: stopped ${stopped.join(', ')}`);
  }
  if (interrupted) return 130;
  const total = summarize(projectDirs(), resultsFile, repoRoot);
  if (total.failures.length > 0) {
    console.log(`\nfailed:\n${total.failures.map((line) => `  ${line}`).join('\n')}`);
  }
  console.log(`\ntests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return code;
}

async function main(): Promise<number> {
  const [command = 'status', ...args] = process.argv.slice(2);
  switch (command) {
    case 'up': {
      const result = await up(parseNames(args));
      console.log(JSON.stringify({ ...result, file: stateFile() }));
      return 0;
    }
    case 'down':
      console.log(JSON.stringify({ stopped: await down(parseNames(args)) }));
      return 0;
    case 'status':
      console.log(JSON.stringify({ file: stateFile(), services: status() }, null, 2));
      return 0;
    case 'env': {
      const state = readState();
      console.log(JSON.stringify(state.services, null, 2));
      return 0;
    }
    case 'arm':
      console.log(JSON.stringify(ensureArm(readState().dir, readState().services.docker?.host), null, 2));
      return 0;
    case 'test':
      return test(args);
    case 'test-arm':
    case 'test-arm-source':
      return test(args, command);
    default:
      console.error(
        `usage: services up|down|status|env [${SERVICE_NAMES.join('|')}...] | arm | test | test-arm | test-arm-source`,
      );
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`services: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
