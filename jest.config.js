/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.cjs',
    // Middy 7 ships ESM only; jest runs CommonJS, so its two packages are transpiled like our code.
    '/node_modules/@middy/.+\\.js$': '<rootDir>/test/support/esbuild-transform.cjs',
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: {
    '^middy-cache$': '<rootDir>/entrypoints/index.ts',
    '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 20000,
}
