const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

const common = {
  testEnvironment: 'node',
  // these ship only ES modules; jest runs CommonJS, so they are compiled like our own code
  transform: { '^.+\\.(ts|js)$': swc },
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|@kubernetes/client-node|openid-client|oauth4webapi|jsonpath-plus|rfc4648)/)',
  ],
  moduleNameMapper: { '^@lattice/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools', '<rootDir>/e2e'],
};

/** One runner, four tiers: each keeps its own suffix. */
module.exports = {
  // finds or starts PostgreSQL and NATS once for the whole run
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.int-spec.ts'],
      slowTestThreshold: 30,
    },
    {
      ...common,
      displayName: 'k8s',
      testMatch: ['**/*.k8s-spec.ts'],
      // starts etcd and kube-apiserver (building kube-apiserver on a machine's first run)
      globalSetup: '<rootDir>/libs/kube-test-env/src/global-setup.ts',
      globalTeardown: '<rootDir>/libs/kube-test-env/src/global-teardown.ts',
      slowTestThreshold: 60,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
    },
  ],
};
