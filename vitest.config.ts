import { defineConfig } from 'vitest/config';

// One run over every package; each package keeps its own vitest.config.ts as well.
export default defineConfig({
  test: {
    projects: ['packages/*', 'plugins/*', 'e2e'],
  },
});
