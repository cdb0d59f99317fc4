import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_NAMES } from './apps';
import { ImageError } from './image-error';
import { REPO_ROOT } from './workspace';

/** How CI builds one image with buildx: what the workflows' image matrices are made of. */
export interface ImageBuild {
  /** The image's name, `growoff/<image>` in ECR, and the Nx project it is built from. */
  image: string;
  /** The package whose version the image carries and whose git tag a release builds it from. */
  package: string;
  version: string;
  /** Relative to the repository. */
  dockerfile: string;
  context: string;
  /** Build arguments beyond VERSION and REVISION, one `NAME=value` a line. */
  buildArgs: string;
}

/** The recipe of an image: its build, and the package folder that holds its version. */
type Recipe = Omit<ImageBuild, 'version'> & { dir: string };

/** The Node apps share docker/app/Dockerfile; the Telegraf agent is the official image plus its config. */
const RECIPES: Recipe[] = [
  ...APP_NAMES.map((app) => ({
    image: app,
    package: `@growoff/${app}`,
    dir: `apps/${app}`,
    dockerfile: 'docker/app/Dockerfile',
    context: '.',
    // The build stage compiles i2c-bus and installs production dependencies for each platform.
    buildArgs: `APP=${app}\nAPP_DEPS=source`,
  })),
  {
    image: 'telegraf',
    package: '@growoff/telegraf',
    dir: 'docker/telegraf',
    dockerfile: 'docker/telegraf/Dockerfile',
    context: 'docker/telegraf',
    buildArgs: '',
  },
];

function build(recipe: Recipe, version: string): ImageBuild {
  const { image, package: name, dockerfile, context, buildArgs } = recipe;
  return { image, package: name, version, dockerfile, context, buildArgs };
}

/** The images of the given Nx projects (those that have one), at the version in their package.json. */
export function imageBuildsOfProjects(projects: string[]): ImageBuild[] {
  return RECIPES.filter((r) => projects.includes(r.image)).map((r) => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, r.dir, 'package.json'), 'utf8')) as {
      version: string;
    };
    return build(r, manifest.version);
  });
}

/** The images of the packages a release published (changesets' publishedPackages), at their released version. */
export function imageBuildsOfRelease(published: unknown): ImageBuild[] {
  if (
    !Array.isArray(published) ||
    !published.every(
      (p: unknown) =>
        typeof p === 'object' &&
        p !== null &&
        typeof (p as { name?: unknown }).name === 'string' &&
        typeof (p as { version?: unknown }).version === 'string',
    )
  )
    throw new ImageError('INVALID_MESSAGE', 'published packages must be a JSON array of {"name", "version"}');
  const versions = new Map(
    (published as { name: string; version: string }[]).map((p) => [p.name, p.version]),
  );
  return RECIPES.filter((r) => versions.has(r.package)).map((r) => build(r, versions.get(r.package)!));
}
