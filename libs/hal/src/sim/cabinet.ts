import type { Clock } from '../clock';
import { gaussian, seededRandom } from './random';

export interface CabinetEnvironment {
  airTemperature: number; // °C
  airHumidity: number; // %RH
  airPressure: number; // hPa
  co2: number; // ppm
  waterTemperature: number; // °C
  ph: number;
  ec: number; // µS/cm at 25 °C
  lightIntensity: number; // lux at the canopy
  waterLevel: number; // reservoir fill, 0..1
  ambientTemperature: number; // room around the cabinet, °C
  ambientHumidity: number; // %RH
  ambientCo2: number; // ppm
}

export interface CabinetInputs {
  light: number; // 0..1
  fan: number; // 0..1
  pump: number; // 0 or 1
}

export const INITIAL_ENVIRONMENT: CabinetEnvironment = {
  airTemperature: 22,
  airHumidity: 60,
  airPressure: 1013.25,
  co2: 600,
  waterTemperature: 20,
  ph: 6.0,
  ec: 1400,
  lightIntensity: 0,
  waterLevel: 0.8,
  ambientTemperature: 21,
  ambientHumidity: 50,
  ambientCo2: 420,
};

const STEP_S = 1;
const LUX_AT_FULL_LIGHT = 30_000;

/**
 * A lumped model of the grow cabinet, integrated lazily up to the clock's now:
 * lights warm the air and let plants take up CO2 and transpire, the fan exchanges
 * air with the room (cooler, drier), the pump draws the reservoir down while it runs
 * and the return line refills it; pH and EC drift as plants feed.
 */
export class Cabinet {
  readonly inputs: CabinetInputs = { light: 0, fan: 0, pump: 0 };
  private env: CabinetEnvironment;
  private at: number;
  private readonly random: () => number;

  constructor(
    private readonly clock: Clock,
    seed = 1,
    initial: Partial<CabinetEnvironment> = {},
  ) {
    this.env = { ...INITIAL_ENVIRONMENT, ...initial };
    this.at = clock.now();
    this.random = seededRandom(seed);
  }

  environment(): CabinetEnvironment {
    this.advance();
    return { ...this.env };
  }

  setEnvironment(patch: Partial<Record<keyof CabinetEnvironment, number>>): void {
    this.advance();
    for (const [key, value] of Object.entries(patch)) {
      if (!(key in this.env)) throw new RangeError(`unknown simulated quantity ${key}`);
      if (typeof value === 'number' && Number.isFinite(value))
        this.env[key as keyof CabinetEnvironment] = value;
    }
  }

  setInput(input: keyof CabinetInputs, value: number): void {
    this.advance();
    this.inputs[input] = value;
  }

  /** A quantity as a sensor sees it: the true value plus measurement noise. */
  measure(quantity: keyof CabinetEnvironment, sigma: number): number {
    this.advance();
    return this.env[quantity] + gaussian(this.random, sigma);
  }

  private advance(): void {
    const now = this.clock.now();
    let remaining = (now - this.at) / 1000;
    this.at = now;
    // Coarser steps for long jumps keep the cost bounded; the model is smooth enough for it.
    const step = Math.max(STEP_S, remaining / 2000);
    while (remaining > 0) {
      const dt = Math.min(step, remaining);
      this.step(dt);
      remaining -= dt;
    }
  }

  private step(dt: number): void {
    const e = this.env;
    const { light, fan, pump } = this.inputs;
    const exchange = 0.0005 + 0.01 * fan; // 1/s: leakage plus forced air exchange
    const relax = (value: number, target: number, rate: number) =>
      value + (target - value) * Math.min(1, rate * dt);

    e.airTemperature = relax(e.airTemperature, e.ambientTemperature, exchange) + 0.004 * light * dt;
    e.airHumidity =
      relax(e.airHumidity, e.ambientHumidity, exchange) + 0.01 * light * dt * (1 - e.airHumidity / 100);
    e.co2 = Math.max(0, relax(e.co2, e.ambientCo2, exchange) - 0.05 * light * dt);
    e.waterTemperature = relax(e.waterTemperature, e.airTemperature, 0.0002);
    e.lightIntensity = light * LUX_AT_FULL_LIGHT;
    e.waterLevel = Math.min(
      1,
      Math.max(0, e.waterLevel - 0.002 * pump * dt + 0.0015 * (1 - pump) * dt * (e.waterLevel < 0.8 ? 1 : 0)),
    );
    e.ph += (0.00002 + 0.00002 * light) * dt;
    e.ec = Math.max(0, e.ec - 0.001 * (1 + light) * dt);
    // The room itself wanders a little.
    e.ambientTemperature += gaussian(this.random, 0.002 * Math.sqrt(dt));
  }
}
