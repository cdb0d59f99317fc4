import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type WorkflowExpectations, imagesNodeMajor, lintWorkflow } from '../src/workflow-lint';
import { root } from './source-tree';

const WORKFLOWS = join(root, '.github/workflows');
const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const read = (name: string) => readFileSync(join(WORKFLOWS, name), 'utf8');

let expectations: WorkflowExpectations;

beforeAll(() => {
  const nodeMajor = imagesNodeMajor(root);
  expect(nodeMajor, "docker/app/Dockerfile's BASE_IMAGE names a Node major").toMatch(/^\d+$/);
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  expectations = { nodeMajor: nodeMajor!, scripts };
});

/** A sound workflow to break one thing at a time in. */
const SOUND = `
on: push
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-24.04
    permissions:
      actions: read
    steps:
      - uses: actions/setup-node@v4
        with:
          node-version: 'NODE'
      - uses: nrwl/nx-set-shas@v4
      - uses: changesets/action@v1
        with:
          version: npm run release:version
          publish: npm run release:publish
`;
const sound = () => SOUND.replace('NODE', expectations.nodeMajor);

describe('the workflows in .github/workflows', () => {
  it('has the CI and release workflows', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['ci.yml', 'release.yml']));
  });

  it.each(workflowFiles)('%s passes the workflow schema and the release checks', async (name) => {
    expect(await lintWorkflow(name, read(name), expectations)).toEqual([]);
  });

  it('releases only from CI: release.yml is only called, by a CI job that needs the tests and images on pushes', () => {
    const release = parse(read('release.yml')) as { on: Record<string, unknown> };
    expect(Object.keys(release.on)).toEqual(['workflow_call']);
    const ci = parse(read('ci.yml')) as {
      on: { push: { branches: string[] } };
      jobs: Record<string, { uses?: string; needs?: string[]; if?: string }>;
    };
    const callers = Object.values(ci.jobs).filter((j) => j.uses === './.github/workflows/release.yml');
    expect(callers).toHaveLength(1);
    expect(callers[0]!.needs).toEqual(expect.arrayContaining(['test', 'images']));
    expect(callers[0]!.if).toContain("github.event_name == 'push'");
    expect(callers[0]!.if).toContain("needs.test.result == 'success'");
    // Hotfixes are made and released on release/vX.Y branches.
    expect(ci.on.push.branches).toEqual(['main', 'release/**']);
  });

  it('runs the whole npm test on pushes, and builds and pushes the Telegraf image in the release', () => {
    expect(read('ci.yml')).toMatch(/if: github\.event_name == 'push'\n\s+run: npm test\n/);
    const release = read('release.yml');
    expect(release).toContain('tools/images/src/cli.ts builds --published');
    expect(release).toContain('file: ${{ matrix.dockerfile }}');
    expect(release).toContain('push: true');
  });
});

describe('the workflow linter', () => {
  it('passes the sound example, so each failure below is the one change made to it', async () => {
    expect(await lintWorkflow('sound.yml', sound(), expectations)).toEqual([]);
  });

  it('reports what GitHub would refuse: unknown keys, bad values, broken expressions', async () => {
    const broken = `
on: pushh
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      actions: reed
    if: \${{ github.ref == ( }}
    stepz:
      - run: echo
`;
    expect(await lintWorkflow('broken.yml', broken, expectations)).toEqual([
      "broken.yml (Line: 2, Col: 5): Unexpected value 'pushh'",
      "broken.yml (Line: 7, Col: 16): Unexpected value 'reed'",
      "broken.yml (Line: 8, Col: 9): Unexpected end of expression: '('",
      "broken.yml (Line: 9, Col: 5): Unexpected value 'stepz'",
    ]);
  });

  it('reports a job that needs a job the workflow does not have', async () => {
    const text = `${sound()}  later:\n    needs: build\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n`;
    expect(await lintWorkflow('needs.yml', text, expectations)).toEqual([
      expect.stringMatching(/Job 'later' depends on unknown job 'build'/),
    ]);
  });

  it('reports a changesets publish command with quotes, as the action would split it', async () => {
    const text = sound().replace(
      'publish: npm run release:publish',
      `publish: sh -c 'npm run release:tag && git push'`,
    );
    expect(await lintWorkflow('quoted.yml', text, expectations)).toEqual([
      expect.stringMatching(/steps\[2\] publish: the action splits .* quotes reach the program/),
    ]);
  });

  it('reports a changesets command with shell operators, or naming a script package.json lacks', async () => {
    const chained = sound().replace(
      'npm run release:publish',
      'npm run release:tag && git push origin --tags',
    );
    expect(await lintWorkflow('chained.yml', chained, expectations)).toEqual([
      expect.stringMatching(/publish: the action runs .* without a shell/),
    ]);
    const missing = sound().replace('npm run release:version', 'npm run release:nothing');
    expect(await lintWorkflow('missing.yml', missing, expectations)).toEqual([
      expect.stringMatching(/version: package.json has no script "release:nothing"/),
    ]);
  });

  it('reports nx-set-shas in a job without actions: read, also when only the workflow grants other permissions', async () => {
    const text = sound().replace('    permissions:\n      actions: read\n', '');
    expect(await lintWorkflow('no-actions.yml', text, expectations)).toEqual([
      expect.stringMatching(/jobs\.test\.steps\[1\]: nx-set-shas needs `actions: read`/),
    ]);
  });

  it("reports a Node version other than the images' major", async () => {
    const other = String(Number(expectations.nodeMajor) - 2);
    const text = sound().replace(`node-version: '${expectations.nodeMajor}'`, `node-version: '${other}.19'`);
    expect(await lintWorkflow('old-node.yml', text, expectations)).toEqual([
      expect.stringMatching(
        new RegExp(`node-version '${other}\\.19' is not the images' Node ${expectations.nodeMajor}`),
      ),
    ]);
  });
});
