export { APPS, APP_NAMES, isAppName, type AppName } from './apps';
export {
  DEFAULT_BASE_IMAGE,
  buildImage,
  deployKey,
  deployedDependencies,
  runStep,
  type BuildImageOptions,
  type BuiltImage,
} from './build-image';
export { imageBuildsOfProjects, imageBuildsOfRelease, type ImageBuild } from './image-builds';
export { ImageError, type ImageErrorCode } from './image-error';
export { formatSizes, imageSizes, type ImageSize } from './image-sizes';
export { labelPlatform } from './platform-label';
export { REPO_ROOT, appVersion, revision } from './workspace';
