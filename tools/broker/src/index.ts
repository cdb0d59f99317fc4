export { BrokerConfigError, type BrokerConfigErrorCode } from './broker-config-error';
export { fleetAcl, MODULE_READ_PATTERNS, MODULE_WRITE_PATTERNS, type FleetIdentities } from './fleet-acl';
export { writePasswordFile, assertUsername, MOSQUITTO_PASSWD, type Credential } from './password-file';
export { writeFleetBroker, type FleetBrokerOptions, type FleetBrokerFiles } from './fleet-broker';
