export { armDeployment, type ArmAddons, type ArmDeployment } from './arm-deploy';
export { buildArmSourceImage, type ArmSourceImage } from './arm-source-image';
