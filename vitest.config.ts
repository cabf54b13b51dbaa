import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    // A failing or hanging effect should surface as a test failure, not stall CI.
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
