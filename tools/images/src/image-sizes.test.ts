import { describe, expect, it } from 'vitest';
import { formatSizes, type ImageSize } from './image-sizes';

const size = (over: Partial<ImageSize>): ImageSize => ({
  app: 'core',
  tag: 'growoff/core:1.0.0',
  platform: 'linux/amd64',
  baseImage: 'node:22-bookworm-slim',
  totalMb: 240.4,
  appMb: 48.2,
  budgetMb: 60,
  withinBudget: true,
  ...over,
});

describe('formatSizes', () => {
  it('prints one aligned row per app, a column per platform, and flags an app over budget on any of them', () => {
    const sizes = [
      size({}),
      size({
        platform: 'linux/arm64',
        baseImage: 'base:arm64',
        tag: 'growoff/core:1.0.0-arm64',
        appMb: 50,
        totalMb: 190,
      }),
      size({ app: 'tunnel', tag: 'growoff/tunnel:1.0.0', totalMb: 230.1, appMb: 12, budgetMb: 30 }),
      size({
        app: 'tunnel',
        platform: 'linux/arm64',
        baseImage: 'base:arm64',
        totalMb: 180,
        appMb: 38,
        budgetMb: 30,
        withinBudget: false,
      }),
    ];
    expect(formatSizes(sizes).split('\n')).toEqual([
      'MB each app adds over its base image (the whole image in parentheses); linux/amd64 over node:22-bookworm-slim, linux/arm64 over base:arm64',
      'app     linux/amd64 MB  linux/arm64 MB  budget MB',
      'core    48.2 (240.4)    50.0 (190.0)    60         ok',
      'tunnel  12.0 (230.1)    38.0 (180.0)    30         OVER BUDGET',
    ]);
  });

  it('leaves a dash where an app has no image for a platform', () => {
    const lines = formatSizes([size({}), size({ app: 'updater', platform: 'linux/arm/v7' })]).split('\n');
    expect(lines[2]).toMatch(/^core +48\.2 \(240\.4\) +- +60 +ok$/);
    expect(lines[3]).toMatch(/^updater +- +48\.2 \(240\.4\) +60 +ok$/);
  });
});
