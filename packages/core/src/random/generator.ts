import { FulmenError } from "../utils/errors";

/** The serialisable state of a {@link Generator}: four 32-bit words and a cached normal sample. */
export interface GeneratorState {
  /** The four 32-bit words of the xoshiro128** state (unsigned integers). */
  s: [number, number, number, number];
  /** The unused second normal sample of the last Box–Muller pair; null when there is none. */
  spareNormal: number | null;
}

function splitMix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seedable random source (xoshiro128**), like `torch.Generator`: every initialisation, dropout mask and
 * shuffle in Fulmen draws from one, so a seed makes a run repeatable. Its state can be saved and restored.
 */
export class Generator {
  private s: [number, number, number, number] = [0, 0, 0, 0];
  private spareNormal: number | null = null;
  private initialSeedValue = 0;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the generator to the stream of `seed` (an integer; only its low 53 bits matter). */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed))
      throw new FulmenError(`manualSeed: seed must be a finite number, got ${seed}.`);
    this.initialSeedValue = seed;
    const hi = Math.floor(seed / 2 ** 32);
    const mix = splitMix32((seed >>> 0) ^ Math.imul(hi >>> 0, 0x27d4eb2d));
    this.s = [mix(), mix(), mix(), mix()];
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
    this.spareNormal = null;
    return this;
  }

  /** The seed last given to {@link Generator.manualSeed}. */
  initialSeed(): number {
    return this.initialSeedValue;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform float in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** A standard normal sample (Box–Muller, the second value of each pair is cached). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** A uniform integer in [low, high). */
  randint(low: number, high: number): number {
    if (!(high > low)) throw new FulmenError(`randint: high (${high}) must be greater than low (${low}).`);
    return low + Math.floor(this.random() * (high - low));
  }

  /** A random permutation of 0..n-1, like `torch.randperm(n)`. */
  randperm(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  /** A copy of the generator's state, for checkpoints. */
  getState(): GeneratorState {
    return { s: [...this.s], spareNormal: this.spareNormal };
  }

  /** Restores a state from {@link Generator.getState}. */
  setState(state: GeneratorState): void {
    if (!Array.isArray(state?.s) || state.s.length !== 4 || state.s.some((w) => !Number.isInteger(w))) {
      throw new FulmenError("Generator.setState: the state must hold four 32-bit integers in `s`.");
    }
    this.s = [state.s[0] >>> 0, state.s[1] >>> 0, state.s[2] >>> 0, state.s[3] >>> 0];
    this.spareNormal = state.spareNormal ?? null;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
