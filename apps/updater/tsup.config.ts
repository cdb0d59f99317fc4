import { defineConfig } from 'tsup';
import { appBuildOptions } from '../../tsup.app.config';

// The AWS SDK stays a module of its own: it is loaded at the first ECR login only.
export default defineConfig(() =>
  appBuildOptions(process.cwd(), { bundleDependenciesExcept: ['@aws-sdk/client-ecr'] }),
);
