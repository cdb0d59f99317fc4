import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSource, root } from './source-tree';

/**
 * Files whose changes must run a project's tests that live elsewhere: CI tests only what
 * `nx affected` finds, so each must be in the project graph (implicitDependencies, or the
 * `externalFiles` input of the project's test target). `checkedBy` is the test source that reads
 * the file (`reads` is how it names it), so the table cannot name a test that no longer looks at it.
 */
const CASES = [
  ...['core', 'updater', 'tunnel'].map((app) => ({
    file: `apps/${app}/src/main.ts`,
    project: 'images',
    checkedBy: 'tools/images/src/workspace.ts',
    reads: "join(REPO_ROOT, 'apps', app)",
  })),
  {
    file: 'docker/app/Dockerfile',
    project: 'images',
    checkedBy: 'tools/images/src/build-image.ts',
    reads: 'docker/app/Dockerfile',
  },
  {
    file: 'docker/telegraf/Dockerfile',
    project: 'images',
    checkedBy: 'tools/images/src/app-dockerfile.test.ts',
    reads: "'app', 'telegraf'",
  },
  {
    file: 'tools/docker/build-node-base-image.sh',
    project: 'test-services',
    checkedBy: 'tools/services/src/dockerd.ts',
    reads: 'tools/docker/build-node-base-image.sh',
  },
  {
    file: 'tools/docker/build-node-base-image.sh',
    project: 'images',
    checkedBy: 'tools/images/test/images.test.ts',
    reads: 'docker.nodeBaseImage',
  },
  {
    file: 'tools/bastion/growoff-bastion.sh',
    project: 'tunnel',
    checkedBy: 'apps/tunnel/test/support.ts',
    reads: 'tools/bastion/growoff-bastion.sh',
  },
  {
    file: 'docker/telegraf/telegraf.conf',
    project: 'telemetry',
    checkedBy: 'libs/telemetry/test/telegraf-conf.test.ts',
    reads: 'docker/telegraf/telegraf.conf',
  },
  {
    file: 'tools/base/install.sh',
    project: 'base',
    checkedBy: 'tools/base/test/install.test.ts',
    reads: "'../install.sh'",
  },
  {
    file: 'tools/base/install.sh',
    project: 'os',
    checkedBy: 'tools/os/provision.sh',
    reads: '$base_dir/install.sh',
  },
  ...['ci.yml', 'release.yml'].map((name) => ({
    file: `.github/workflows/${name}`,
    project: 'workspace-checks',
    checkedBy: 'tools/workspace/test/workflows.test.ts',
    reads: "'.github/workflows'",
  })),
];

interface Graph {
  nodes: Record<string, unknown>;
}
type FileChange = { file: string };

// Nx's own affected computation, the one `nx affected` and `nx show projects --affected` run; the
// graph is built once here instead of once per file (each CLI run takes seconds).
const require = createRequire(join(root, 'package.json'));
const { createProjectGraphAsync } = require('nx/src/project-graph/project-graph') as {
  createProjectGraphAsync: (opts: { exitOnError: boolean }) => Promise<Graph>;
};
const { filterAffected } = require('nx/src/project-graph/affected/affected-project-graph') as {
  filterAffected: (graph: Graph, files: FileChange[]) => Promise<Graph>;
};
const { calculateFileChanges } = require('nx/src/project-graph/file-utils') as {
  calculateFileChanges: (files: string[], nxArgs: { files: string[] }) => FileChange[];
};

const nxEnv = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
let graph: Graph;

async function affectedBy(files: string[]): Promise<string[]> {
  const changes = calculateFileChanges(files, { files });
  return Object.keys((await filterAffected(graph, changes)).nodes).sort();
}

beforeAll(async () => {
  Object.assign(process.env, nxEnv);
  graph = await createProjectGraphAsync({ exitOnError: false });
}, 120_000);

describe('nx affected', () => {
  it.each(CASES)('runs $project when $file changes', async ({ file, project, checkedBy, reads }) => {
    expect(existsSync(join(root, file)), file).toBe(true);
    expect(readSource(checkedBy), `${checkedBy} reads ${file}`).toContain(reads);
    expect(await affectedBy([file])).toContain(project);
  });

  it('finds no project for a change to the README, so the table above is not satisfied by everything', async () => {
    expect(await affectedBy(['README.md'])).toEqual([]);
  });

  it('agrees with `nx show projects --affected` on the command line', async () => {
    const files = [...new Set(CASES.map((c) => c.file))];
    const cli = execFileSync(
      join(root, 'node_modules/.bin/nx'),
      ['show', 'projects', '--affected', `--files=${files.join(',')}`, '--json'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, ...nxEnv } },
    );
    expect((JSON.parse(cli) as string[]).sort()).toEqual(await affectedBy(files));
  }, 120_000);
});
