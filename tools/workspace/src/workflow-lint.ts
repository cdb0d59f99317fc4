import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';

/** What a workflow is checked against beyond GitHub's schema. */
export interface WorkflowExpectations {
  /** The Node major the images ship; CI tests on it. */
  nodeMajor: string;
  /** The root package.json's scripts, which the changesets action's commands must name. */
  scripts: Record<string, string>;
}

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: string | Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  permissions?: string | Record<string, string>;
  jobs?: Record<string, Job>;
}

/** The Node major of docker/app/Dockerfile's default base image (`node:22-bookworm-slim` → `22`). */
export function imagesNodeMajor(repo: string): string | undefined {
  const dockerfile = readFileSync(join(repo, 'docker/app/Dockerfile'), 'utf8');
  return /^ARG BASE_IMAGE=node:(\d+)\b/m.exec(dockerfile)?.[1];
}

/**
 * The changesets action splits `version:` and `publish:` on whitespace and runs the words without a
 * shell: quotes reach the program verbatim (`sh -c 'npm ...` hands sh `'npm`) and `&&`, `|` or `;`
 * are plain arguments. So each must be one script of package.json, run with npm or pnpm.
 */
function changesetsCommandDefects(where: string, command: string, scripts: Record<string, string>): string[] {
  if (/['"`\\]/.test(command))
    return [
      `${where}: the action splits "${command}" on spaces, without a shell; quotes reach the program as they are`,
    ];
  if (/&&|\|\||[|;<>]|\$\(/.test(command))
    return [
      `${where}: the action runs "${command}" without a shell; shell operators are plain arguments to it`,
    ];
  const script = /^(?:npm|pnpm)\s+(?:run\s+)?(?:--silent\s+)?([\w:.-]+)$/.exec(command.trim())?.[1];
  if (!script) return [`${where}: "${command}" is not \`npm run <script>\``];
  if (!(script in scripts)) return [`${where}: package.json has no script "${script}"`];
  return [];
}

function grantsActionsRead(permissions: Job['permissions']): boolean {
  if (permissions === 'read-all' || permissions === 'write-all') return true;
  return typeof permissions === 'object' && ['read', 'write'].includes(permissions.actions ?? '');
}

/** The defects the workflow schema cannot see but that broke the release before. */
export function workflowDefects(name: string, text: string, expect: WorkflowExpectations): string[] {
  const workflow = (parse(text) ?? {}) as Workflow;
  const defects: string[] = [];
  for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
    for (const [index, step] of (job.steps ?? []).entries()) {
      const where = `${name} jobs.${jobId}.steps[${index}]`;
      const action = step.uses?.split('@')[0];
      if (action === 'changesets/action') {
        for (const input of ['version', 'publish']) {
          const command = step.with?.[input];
          if (command !== undefined)
            defects.push(...changesetsCommandDefects(`${where} ${input}`, String(command), expect.scripts));
        }
      }
      // It lists the workflow's runs to find the last green commit; without the permission it fails.
      if (action === 'nrwl/nx-set-shas' && !grantsActionsRead(job.permissions ?? workflow.permissions))
        defects.push(
          `${where}: nx-set-shas needs \`actions: read\` in the job's (or workflow's) permissions`,
        );
      if (action === 'actions/setup-node') {
        const version = String(step.with?.['node-version'] ?? '');
        if (/^v?(\d+)/.exec(version)?.[1] !== expect.nodeMajor)
          defects.push(`${where}: node-version '${version}' is not the images' Node ${expect.nodeMajor}`);
      }
    }
  }
  return defects;
}

/**
 * Every error of a workflow: GitHub's own parser and schema (@actions/workflow-parser: unknown keys,
 * bad values, expressions, needs), then the defects above. Empty when the workflow is sound.
 */
export async function lintWorkflow(
  name: string,
  text: string,
  expect: WorkflowExpectations,
): Promise<string[]> {
  const parsed = parseWorkflow({ name, content: text }, new NoOperationTraceWriter());
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value);
  const errors = [...new Set(parsed.context.errors.getErrors().map((e) => e.message))];
  if (errors.length > 0) return errors;
  return workflowDefects(name, text, expect);
}
