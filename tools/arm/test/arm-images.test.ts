import { describeArmImages } from './arm-images';

// The images from the production dependencies cross-built here (APP_DEPS=prepared).
describeArmImages('prepared');
