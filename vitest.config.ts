import type { Reporter } from "vitest/reporters"
import { defineConfig } from "vitest/config"

// Ends the run with one plain line, "vitest: N passed, N failed, N skipped", that CI can read.
const summary: Reporter = {
  onTestRunEnd(testModules) {
    const counts = { passed: 0, failed: 0, skipped: 0 }
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") counts.passed++
        else if (state === "failed") counts.failed++
        else counts.skipped++
      }
    }
    console.log(`vitest: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`)
  }
}

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    reporters: ["default", summary],
    // A hanging effect should fail its test, not stall CI.
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
