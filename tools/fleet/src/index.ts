export { runFleet, USAGE } from './cli';
export type { CliIo } from './cli-io';
export { FleetError, type FleetErrorCode } from './fleet-error';
export { FleetView, renderFleet, type ModuleRow, type ChannelRow } from './fleet-view';
