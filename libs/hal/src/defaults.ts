/**
 * The ids the default module profile (DEFAULT_PROFILE) gives its sensors and actuators, in its
 * order. They are part of the external contract (topics `sensors/{id}` and `actuators/{id}`, REST
 * paths), so tests, benches and tools name them from here.
 */
export const DEFAULT_SENSOR_IDS = [
  'air_temperature',
  'air_humidity',
  'co2',
  'water_temperature',
  'ph',
  'ec',
  'light_intensity',
  'water_level',
] as const;

export const DEFAULT_ACTUATOR_IDS = ['light', 'fan', 'pump'] as const;

export type DefaultSensorId = (typeof DEFAULT_SENSOR_IDS)[number];
export type DefaultActuatorId = (typeof DEFAULT_ACTUATOR_IDS)[number];
