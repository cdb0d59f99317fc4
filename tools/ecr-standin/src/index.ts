export {
  startEcrStandin,
  type EcrStandin,
  type EcrStandinOptions,
  type EcrStandinStats,
} from './ecr-standin';
export type { RegistryAccess } from './registry-client';
