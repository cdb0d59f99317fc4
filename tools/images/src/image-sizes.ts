import { execFileSync } from 'node:child_process';
import { APPS, type AppName } from './apps';
import { ImageError } from './image-error';

export interface ImageSize {
  app: AppName;
  tag: string;
  /** `linux/amd64`, `linux/arm64`, `linux/arm/v7`: the image's own, as the engine reports it. */
  platform: string;
  baseImage: string;
  totalMb: number;
  /** What the app adds to its base image: the budgeted part. */
  appMb: number;
  budgetMb: number;
  withinBudget: boolean;
}

const MB = 1024 * 1024;

function inspect(image: string, env: NodeJS.ProcessEnv): { size: number; platform: string } {
  try {
    const [size, platform] = execFileSync(
      'docker',
      [
        'image',
        'inspect',
        '--format',
        '{{.Size}} {{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}',
        image,
      ],
      { env, encoding: 'utf8' },
    )
      .trim()
      .split(' ');
    return { size: Number(size), platform: platform! };
  } catch {
    throw new ImageError(
      'IMAGE_NOT_FOUND',
      `image ${image} not found; build it first (pnpm nx run <app>:image)`,
    );
  }
}

/** Each image's size and what it adds over its base (`baseImage`, unless the image names its own). */
export function imageSizes(
  images: { app: AppName; tag: string; baseImage?: string }[],
  baseImage: string,
  dockerHost?: string,
): ImageSize[] {
  const env = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
  return images.map(({ app, tag, baseImage: ownBase }) => {
    const base = inspect(ownBase ?? baseImage, env).size;
    const { size: total, platform } = inspect(tag, env);
    const appMb = Math.round(((total - base) / MB) * 10) / 10;
    const budgetMb = APPS[app].budgetMb;
    return {
      app,
      tag,
      platform,
      baseImage: ownBase ?? baseImage,
      totalMb: Math.round((total / MB) * 10) / 10,
      appMb,
      budgetMb,
      withinBudget: appMb <= budgetMb,
    };
  });
}

/**
 * One row per app, one column per platform: what the app adds over that platform's base image
 * (the budgeted part), the whole image's size in parentheses; then the budget and the verdict.
 */
export function formatSizes(sizes: ImageSize[]): string {
  const platforms = [...new Set(sizes.map((s) => s.platform))];
  const apps = [...new Set(sizes.map((s) => s.app))];
  const rows = [
    ['app', ...platforms.map((p) => `${p} MB`), 'budget MB', ''],
    ...apps.map((app) => {
      const own = sizes.filter((s) => s.app === app);
      return [
        app,
        ...platforms.map((p) => {
          const s = own.find((o) => o.platform === p);
          return s ? `${s.appMb.toFixed(1)} (${s.totalMb.toFixed(1)})` : '-';
        }),
        String(APPS[app].budgetMb),
        own.every((s) => s.withinBudget) ? 'ok' : 'OVER BUDGET',
      ];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const bases = [...new Set(sizes.map((s) => `${s.platform} over ${s.baseImage}`))].join(', ');
  return [
    `MB each app adds over its base image (the whole image in parentheses); ${bases}`,
    ...rows.map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
  ].join('\n');
}
