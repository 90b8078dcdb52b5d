import type { TimingOptions } from '../gpu/timing.js';

/** Timing per mode: quick keeps fewer repeats (the 3-minute budget on a 2-core CPU adapter). */
export function defaultTiming(mode: 'quick' | 'full'): TimingOptions {
  return mode === 'quick'
    ? { minPassS: 1e-3, maxPassS: 1e-2, repeats: 5, warmup: 1 }
    : { minPassS: 1e-3, maxPassS: 1e-2, repeats: 10, warmup: 2 };
}
