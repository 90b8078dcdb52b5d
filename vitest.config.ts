import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn on lavapipe segfaults under worker threads; lavapipe already uses every core, so GPU
    // test files run one at a time in forked processes (see shared reference webgpu-dawn.md).
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
