export { appVersion } from './app-version';
