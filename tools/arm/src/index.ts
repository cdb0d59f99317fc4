export { armDeployment, type ArmAddons, type ArmDeployment } from './arm-deploy';
