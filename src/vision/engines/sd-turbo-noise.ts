/**
 * Seeded Gaussian noise: the same seed gives the same latent bytes on every machine and Node version, which
 * is what "same seed" and "again" promise. xoshiro128** (32-bit integer ops only, so no platform float
 * differences), seeded through splitmix32 so that nearby seeds (seed, seed + 1 for a batch) start far apart;
 * Box–Muller turns pairs of uniforms into normals. Not the torch generator: the same seed does not give the
 * picture diffusers would, only the same picture every time here.
 */

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Uniform integers from xoshiro128**. */
export function seededUint32(seed: number): () => number {
  const mix = splitmix32(seed);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** `count` standard normal values from `seed`. Seeds are taken modulo 2³². */
export function gaussianNoise(seed: number, count: number): Float32Array {
  const next = seededUint32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    // (0, 1]: log(0) would be −∞.
    const u1 = (next() + 1) / 4294967296;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
