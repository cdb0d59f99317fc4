import { parseArgs } from 'node:util';
import { APP_NAMES, isAppName, type AppName } from './apps';
import { DEFAULT_BASE_IMAGE, buildImage } from './build-image';
import { imageBuildsOfProjects, imageBuildsOfRelease } from './image-builds';
import { ImageError } from './image-error';
import { formatSizes, imageSizes } from './image-sizes';
import { appVersion } from './workspace';

const USAGE = `usage:
  image build <app...> [--base-image IMAGE] [--deps source|prepared] [--repository PREFIX] [--skip-app-build]
  image sizes [app...] [--base-image IMAGE] [--repository PREFIX] [--variant SUFFIX=BASE...]
  image builds --projects JSON | --published JSON
Images are tagged <PREFIX><app>:<version> (PREFIX default growoff/); apps: ${APP_NAMES.join(', ')}.
--deps source (default) builds everything in the image's build stage (needs BuildKit/buildx);
--deps prepared deploys the production dependencies here (same architecture and Node ABI as the base).
--variant also measures <PREFIX><app>:<version><SUFFIX> over BASE, as another column when it is another
platform (e.g. --variant=-arm64=growoff/node-base:local-arm64 --variant=-armv7=growoff/node-base:local-armv7).
DOCKER_HOST selects the engine.
\`builds\` prints, as JSON, how CI builds the images (the apps' and Telegraf's) of the given Nx projects
(a JSON array of names, at their package versions) or of a release's published packages (changesets'
publishedPackages: [{"name", "version"}]).`;

function apps(names: string[]): AppName[] {
  if (names.length === 0) return APP_NAMES;
  for (const n of names)
    if (!isAppName(n)) throw new ImageError('IMAGE_UNKNOWN_APP', `unknown app '${n}'\n${USAGE}`);
  return names as AppName[];
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'base-image': { type: 'string', default: DEFAULT_BASE_IMAGE },
      deps: { type: 'string', default: 'source' },
      'skip-app-build': { type: 'boolean', default: false },
      repository: { type: 'string', default: 'growoff/' },
      projects: { type: 'string' },
      published: { type: 'string' },
      variant: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...names] = positionals;
  const tagOf = (app: AppName) => `${values.repository}${app}:${appVersion(app)}`;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === 'build') {
    if (values.deps !== 'prepared' && values.deps !== 'source')
      throw new ImageError('IMAGE_BUILD_FAILED', `--deps must be prepared or source`);
    for (const app of apps(names)) {
      const built = await buildImage({
        app,
        tag: tagOf(app),
        baseImage: values['base-image'],
        deps: values.deps,
        buildApp: !values['skip-app-build'],
        log: (l) => console.log(`  ${l}`),
      });
      console.log(
        `${built.tag} built in ${built.seconds.toFixed(1)} s (version ${built.version}, revision ${built.revision})`,
      );
    }
    return 0;
  }
  if (command === 'builds') {
    const json = (flag: 'projects' | 'published'): unknown => {
      try {
        return JSON.parse(values[flag]!);
      } catch {
        throw new ImageError('BAD_JSON', `--${flag} is not JSON: ${values[flag]}`);
      }
    };
    if ((values.projects === undefined) === (values.published === undefined))
      throw new ImageError('INVALID_MESSAGE', `builds takes one of --projects or --published\n${USAGE}`);
    const projects = values.projects === undefined ? undefined : json('projects');
    if (projects !== undefined && !(Array.isArray(projects) && projects.every((p) => typeof p === 'string')))
      throw new ImageError('INVALID_MESSAGE', '--projects must be a JSON array of project names');
    console.log(
      JSON.stringify(
        projects === undefined
          ? imageBuildsOfRelease(json('published'))
          : imageBuildsOfProjects(projects as string[]),
      ),
    );
    return 0;
  }
  if (command === 'sizes') {
    const variants = values.variant.map((v) => {
      const [suffix, base] = v.split('=');
      if (!suffix || !base)
        throw new ImageError('IMAGE_NOT_FOUND', `--variant takes SUFFIX=BASE, got '${v}'`);
      return { suffix, base };
    });
    const sizes = imageSizes(
      apps(names).flatMap((app) => [
        { app, tag: tagOf(app) },
        ...variants.map((v) => ({ app, tag: `${tagOf(app)}${v.suffix}`, baseImage: v.base })),
      ]),
      values['base-image'],
    );
    console.log(formatSizes(sizes));
    return sizes.every((s) => s.withinBudget) ? 0 : 1;
  }
  console.error(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ImageError ? `image: ${err.message}` : err);
    process.exit(1);
  },
);
