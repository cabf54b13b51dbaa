import type { Reporter } from "vitest/reporters"
import { defineConfig } from "vitest/config"

// Ends the run with one plain line, "vitest: N passed, N failed, N skipped", that CI can read. A test file that
// fails to load, and an error outside any test, count as failures too.
const summary: Reporter = {
  onTestRunEnd(testModules, unhandledErrors) {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 }
    for (const module of testModules) {
      let failedTests = 0
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") counts.passed++
        else if (state === "failed") failedTests++
        else counts.skipped++
      }
      counts.failed += failedTests === 0 && module.state() === "failed" ? 1 : failedTests
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
