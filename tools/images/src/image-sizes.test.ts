import { describe, expect, it } from 'vitest';
import { formatSizes, type ImageSize } from './image-sizes';

describe('formatSizes', () => {
  it('prints one aligned row per image with its budget and flags an image over it', () => {
    const sizes: ImageSize[] = [
      {
        app: 'core',
        tag: 'growoff/core:1.0.0',
        totalMb: 240.4,
        appMb: 48.2,
        budgetMb: 60,
        withinBudget: true,
      },
      {
        app: 'tunnel',
        tag: 'growoff/tunnel:1.0.0',
        totalMb: 230.1,
        appMb: 38,
        budgetMb: 30,
        withinBudget: false,
      },
    ];
    expect(formatSizes(sizes, 'node:22-bookworm-slim').split('\n')).toEqual([
      'app     image                 total MB  over node:22-bookworm-slim MB  budget MB',
      'core    growoff/core:1.0.0    240.4     48.2                           60         ok',
      'tunnel  growoff/tunnel:1.0.0  230.1     38.0                           30         OVER BUDGET',
    ]);
  });
});
