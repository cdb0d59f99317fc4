/** mulberry32: a small seeded PRNG so simulated noise is repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Approximately normal noise (sum of uniforms), mean 0, standard deviation sigma. */
export function gaussian(random: () => number, sigma: number): number {
  return (random() + random() + random() + random() - 2) * sigma * Math.sqrt(3);
}
