import { describeArmImages } from './arm-images';

// The images as CI builds them (APP_DEPS=source): pnpm install, the app's build and i2c-bus's compile
// inside the emulated build stage. Its own command (`npm run test:arm:source`): tens of minutes per image.
describeArmImages('source');
