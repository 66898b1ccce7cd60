import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

interface Report {
  filePath: string;
  messages: { ruleId: string | null; message: string }[];
}

const ROOT = join(__dirname, '../..');

/** Each source, linted by the project's ESLint config as if it were the file at its path. */
function lint(sources: Record<string, string>): Map<string, Report['messages']> {
  const input = Object.entries(sources).map(([filePath, code]) => ({ filePath, code }));
  const out = execFileSync(process.execPath, [join(__dirname, 'lint-text.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return new Map((JSON.parse(out) as Report[]).map((r) => [r.filePath, r.messages]));
}

const rules = (messages: Report['messages'] | undefined) => (messages ?? []).map((m) => m.ruleId);

describe('architecture lint', () => {
  let reports: Map<string, Report['messages']>;

  beforeAll(() => {
    reports = lint({
      // apps never import apps, by alias or by path
      'apps/auth/test/tenants-beside.ts':
        "import { createTenantsApp } from '../../tenants/src/tenants.app';\nexport const start = createTenantsApp;\n",
      'apps/gateway/src/tenants/deep-reach.ts':
        "import { TenantService } from '../../../tenants/src/tenant/tenant.service';\nexport const service = TenantService;\n",
      // libraries never import apps
      'libs/config/src/reach.ts':
        "import { createAuthApp } from '../../../apps/auth/src/auth.app';\nexport const start = createAuthApp;\n",
      // a pure core imports no framework
      'apps/operator/src/scaling/framework.ts':
        "import { Injectable } from '@nestjs/common';\nexport const decorate = Injectable;\n",
      'apps/operator/src/scaling/cluster.ts':
        "import { KubeConfig } from '@kubernetes/client-node';\nexport const config = KubeConfig;\n",
      'apps/operator/src/policy/wrapped.ts':
        "import { KubeGateway } from '../kube/kube.gateway';\nexport const gateway = KubeGateway;\n",
      // contracts import nothing of ours
      'libs/contracts/src/reach.ts':
        "import { loadConfig } from '@lattice/config';\nexport const load = loadConfig;\n",
      // the operator stays out of the services' libraries
      'apps/operator/src/controller/data.ts':
        "import { TenantScope } from '@lattice/database';\nexport const scope = TenantScope;\n",
      // the test libraries are for tests
      'apps/gateway/src/http/harness.ts':
        "import { eventually } from '@lattice/testing';\nexport const wait = eventually;\n",
      'libs/messaging/src/harness.ts':
        "import * as testing from '../../testing/src/eventually';\nexport const wait = testing.eventually;\n",
      // the launcher is a program beside the platform, not a library of it
      'apps/gateway/src/http/launch.ts':
        "import * as launcher from '../../../../tools/launcher/src/platform';\nexport const start = launcher.startPlatform;\n",
      'apps/tenants/src/tenant/tenant-lifecycle.ts':
        "import { EntityManager } from 'typeorm';\nexport const em = EntityManager;\n",
      // legal
      'e2e/support/launch.ts':
        "import { startPlatform } from '../../tools/launcher/src/platform';\nexport const start = startPlatform;\n",
      'apps/operator/src/scaling/legal.ts':
        "import { stabilize } from './behavior';\nimport { cpuMilli } from '../kube/quantity';\nexport const both = [stabilize, cpuMilli];\n",
      'apps/gateway/src/http/legal.ts':
        "import { loadConfig } from '@lattice/config';\nimport { Injectable } from '@nestjs/common';\nexport const both = [loadConfig, Injectable];\n",
      'apps/gateway/src/http/legal.spec.ts':
        "import { eventually } from '@lattice/testing';\nexport const wait = eventually;\n",
      'libs/contracts/src/legal.ts':
        "import { z } from 'zod';\nimport { ErrorCode } from './errors';\nexport const both = [z, ErrorCode];\n",
    });
  });

  it.each([
    ['apps/auth/test/tenants-beside.ts', '@nx/enforce-module-boundaries'],
    ['apps/gateway/src/tenants/deep-reach.ts', '@nx/enforce-module-boundaries'],
    ['libs/config/src/reach.ts', '@nx/enforce-module-boundaries'],
    ['apps/operator/src/scaling/framework.ts', '@typescript-eslint/no-restricted-imports'],
    ['apps/operator/src/scaling/cluster.ts', '@typescript-eslint/no-restricted-imports'],
    ['apps/operator/src/policy/wrapped.ts', '@typescript-eslint/no-restricted-imports'],
    ['libs/contracts/src/reach.ts', '@nx/enforce-module-boundaries'],
    ['apps/operator/src/controller/data.ts', '@nx/enforce-module-boundaries'],
    ['apps/gateway/src/http/harness.ts', 'no-restricted-imports'],
    ['libs/messaging/src/harness.ts', '@nx/enforce-module-boundaries'],
    ['apps/gateway/src/http/launch.ts', '@nx/enforce-module-boundaries'],
    ['apps/tenants/src/tenant/tenant-lifecycle.ts', '@typescript-eslint/no-restricted-imports'],
  ])('reports %s (%s)', (file, rule) => {
    expect(rules(reports.get(file))).toContain(rule);
  });

  it.each([
    'e2e/support/launch.ts',
    'apps/operator/src/scaling/legal.ts',
    'apps/gateway/src/http/legal.ts',
    'apps/gateway/src/http/legal.spec.ts',
    'libs/contracts/src/legal.ts',
  ])('lets %s be', (file) => {
    expect(reports.get(file)).toEqual([]);
  });
});
