import { execFileSync } from 'node:child_process';
import { APPS, type AppName } from './apps';
import { ImageError } from './image-error';

export interface ImageSize {
  app: AppName;
  tag: string;
  totalMb: number;
  /** What the app adds to its base image: the budgeted part. */
  appMb: number;
  budgetMb: number;
  withinBudget: boolean;
}

const MB = 1024 * 1024;

function sizeOf(image: string, env: NodeJS.ProcessEnv): number {
  try {
    return Number(
      execFileSync('docker', ['image', 'inspect', '--format', '{{.Size}}', image], {
        env,
        encoding: 'utf8',
      }).trim(),
    );
  } catch {
    throw new ImageError(
      'IMAGE_NOT_FOUND',
      `image ${image} not found; build it first (pnpm nx run <app>:image)`,
    );
  }
}

export function imageSizes(
  images: { app: AppName; tag: string }[],
  baseImage: string,
  dockerHost?: string,
): ImageSize[] {
  const env = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
  const base = sizeOf(baseImage, env);
  return images.map(({ app, tag }) => {
    const total = sizeOf(tag, env);
    const appMb = Math.round(((total - base) / MB) * 10) / 10;
    const budgetMb = APPS[app].budgetMb;
    return {
      app,
      tag,
      totalMb: Math.round((total / MB) * 10) / 10,
      appMb,
      budgetMb,
      withinBudget: appMb <= budgetMb,
    };
  });
}

export function formatSizes(sizes: ImageSize[], baseImage: string): string {
  const rows = [
    ['app', 'image', 'total MB', `over ${baseImage} MB`, 'budget MB', ''],
    ...sizes.map((s) => [
      s.app,
      s.tag,
      s.totalMb.toFixed(1),
      s.appMb.toFixed(1),
      String(s.budgetMb),
      s.withinBudget ? 'ok' : 'OVER BUDGET',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
