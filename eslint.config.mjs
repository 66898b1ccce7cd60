import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import { createProjectGraphAsync } from '@nx/devkit';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// The module-boundary rule reads Nx's cached project graph and skips itself, silently, where
// there is none: build it first, so a fresh clone, a new project or a changed tag is seen.
process.env.NX_DAEMON ??= 'false';
process.env.NX_NO_CLOUD ??= 'true';
await createProjectGraphAsync({ exitOnError: true });

/** Where tests and their harnesses live: the only files that may use the test libraries. */
const TEST_FILES = [
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/*.k8s-spec.ts',
  '**/*.e2e-spec.ts',
  'apps/*/test/**',
  'e2e/**',
  'bench/**',
  'libs/testing/**',
  'libs/kube-test-env/**',
];

/**
 * Pure cores: domain logic in plain TypeScript, no framework, database, broker or cluster
 * client, so their tests are fast and exhaustive. A new pure module is added here.
 */
const PURE_CORES = [
  'libs/contracts/src/**/*.ts',
  'apps/operator/src/scaling/*.ts',
  'apps/operator/src/policy/*.ts',
  'apps/operator/src/kube/quantity.ts',
  'apps/tenants/src/tenant/tenant-lifecycle.ts',
  'apps/tenants/src/plans/plan-catalog.ts',
  'apps/tenants/src/usage/metering.ts',
  'apps/audit/src/chain/canonical-json.ts',
  'apps/scheduler/src/fair-share/fair-share.ts',
  'apps/scheduler/src/dispatch/retry-backoff.ts',
  'apps/scheduler/src/jobs/job-lifecycle.ts',
  'apps/scheduler/src/drain/drain-pick.ts',
  'apps/operator/src/drain/drain-plan.ts',
  'apps/gpu-nodes/src/placement/placement.ts',
  'apps/gpu-nodes/src/health/health.ts',
  'apps/gpu-nodes/src/routing/routing.ts',
  'apps/gpu-nodes/src/usage/gpu-seconds.ts',
  'apps/gpu-agent/src/sources/*.parser.ts',
  'apps/scheduler/src/metering/gpu-seconds.ts',
  'apps/rag/src/screening/*.ts',
  'apps/rag/src/redaction/*.ts',
  'apps/rag/src/answering/*.ts',
  'apps/rag/src/cost/*.ts',
  'apps/rag/src/tokens/*.ts',
  'apps/rag/src/ingest/parsing/*.ts',
  'apps/rag/src/ingest/chunking/*.ts',
];

/** What a pure core may not import, directly or through a module of ours that wraps it. */
const FRAMEWORKS = [
  '@nestjs/*',
  'typeorm',
  'typeorm/*',
  'nats',
  'pg',
  'ioredis',
  '@kubernetes/client-node',
  '@lattice/database',
  '@lattice/messaging',
  '@lattice/service-runtime',
  '@lattice/telemetry',
  '@lattice/logging',
  // the rooms of an app that hold its framework: modules, handlers, repositories, the cluster
  '**/*.module',
  '**/*.app',
  '**/*.service',
  '**/*.controller',
  '**/*.handlers',
  '**/*.repository',
  '**/*.entity',
  '**/*.consumer',
  '**/*.job',
  '**/kube/*',
  '!**/kube/quantity',
  '**/metrics/*',
  '**/crd/*',
  '**/controller/*',
];

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.nx/**', 'coverage/**', '*.config.js', '*.config.mjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
  {
    // scripts that node runs as they are, outside the TypeScript project
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', Buffer: 'readonly' },
    },
  },
  {
    // Project boundaries, from the tags in each project.json. A project whose tags match no
    // constraint may depend on nothing of ours; a relative import into another project is
    // refused whatever the tags. A new service's project.json needs "tags": ["type:app",
    // "scope:services"], a new library's ["type:lib"] (plus "scope:services" if only the
    // services may use it, "type:test" if only tests may), and a library its @lattice/ path
    // in tsconfig.base.json; nothing here changes.
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          // the end-to-end tests drive the platform through the launcher, as `npm start` does
          allow: ['^\\.\\./\\.\\./tools/launcher/src/platform$'],
          depConstraints: [
            // a service: libraries only, never another service
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            // programs beside the platform (the launcher) and the end-to-end tests
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
            // the contracts every side shares depend on nothing of ours
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [] },
            // the operator runs in the cluster beside, not inside, the platform's services
            { sourceTag: 'scope:operator', notDependOnLibsWithTags: ['scope:services'] },
          ],
        },
      ],
    },
  },
  {
    // the test libraries start databases and brokers and mock at will: tests only
    files: ['**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@lattice/testing',
                '@lattice/testing/*',
                '@lattice/kube-test-env',
                '@lattice/kube-test-env/*',
                '**/libs/testing/**',
                '**/libs/kube-test-env/**',
              ],
              message:
                'the test libraries are for tests (*.spec.ts, *-spec.ts, test/, e2e/, bench/)',
            },
          ],
        },
      ],
    },
  },
  {
    files: PURE_CORES,
    ignores: TEST_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: FRAMEWORKS,
              message: 'a pure core imports no framework, database, broker or cluster client',
            },
          ],
        },
      ],
    },
  },
  {
    // SQL sits in repositories; a service holds the logic of a unit of work, not its statements
    files: ['apps/*/src/**/*.service.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='query']",
          message: 'SQL belongs in a <thing>.repository.ts, not in a service',
        },
      ],
    },
  },
  prettier,
);
