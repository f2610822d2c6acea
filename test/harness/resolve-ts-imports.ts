import { registerHooks } from 'node:module'

/**
 * Jest loads globalSetup/globalTeardown with Node's own require (compiling
 * TypeScript through its transform), so jest.config's moduleNameMapper does
 * not apply there and `import './services.js'` finds no file: only
 * services.ts exists. This hook retries such relative `.js` imports of a `.ts`
 * file as `.ts`. It runs in jest's main process only; test files resolve
 * through jest's own resolver and never load it.
 */

// module.registerHooks arrived in Node 22.15. On an older Node the imports
// after this one would fail with a puzzling "Cannot find module", before
// global setup's own version check could run, so say it here.
if (typeof registerHooks !== 'function') {
  throw new Error(
    `middy-cache tests need Node >= 22.15, but jest runs on Node ${process.versions.node} (${process.execPath}). ` +
      'Run them through npm so that the pinned node devDependency is used: `npm test -- <path>` or `npx jest <path>`.',
  )
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (error) {
      const fromTypeScript = context.parentURL?.endsWith('.ts') === true
      if (!fromTypeScript || !specifier.startsWith('.') || !specifier.endsWith('.js')) throw error
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context)
    }
  },
})
