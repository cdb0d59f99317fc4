/**
 * The apps that ship as images, and what each image may add on top of its base image: the budget
 * is on the app's own layers, so it holds for node:22-bookworm-slim and the local test base alike.
 */
export const APPS = {
  core: { budgetMb: 60 },
  updater: { budgetMb: 60 },
  tunnel: { budgetMb: 30 },
} as const;

export type AppName = keyof typeof APPS;

export const APP_NAMES = Object.keys(APPS) as AppName[];

export function isAppName(name: string): name is AppName {
  return Object.hasOwn(APPS, name);
}
