/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.cjs',
    // Middy ships ESM only (7, and 6 under its alias); jest runs CommonJS, so they are transpiled like our code.
    '/node_modules/(@middy/.+|middy-core-6/.+)\\.js$': '<rootDir>/test/support/esbuild-transform.cjs',
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/|middy-core-6/)'],
  moduleNameMapper: {
    '^middy-cache$': '<rootDir>/entrypoints/index.ts',
    '^@middy/(core|util|http-router)$': '<rootDir>/node_modules/@middy/$1/index.js',
    '^middy-core-6$': '<rootDir>/node_modules/middy-core-6/index.js',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 20000,
}
