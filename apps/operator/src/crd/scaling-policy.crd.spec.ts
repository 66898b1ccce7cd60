import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrd, scalingPolicyCrd } from './scaling-policy.crd';
import { POLICY_TYPES_FILE, renderPolicyTypes } from './scaling-policy.types.render';

// the generator formats nothing, and Prettier's CommonJS entry cannot load inside jest
jest.mock('prettier', () => ({}));

describe('ScalingPolicy CRD', () => {
  it.each([
    'k8s/crds/scalingpolicies.lattice.dev.yaml',
    'charts/lattice/crds/scalingpolicies.lattice.dev.yaml',
  ])('%s matches the schema in code (run `npm run generate:crd`)', (path) => {
    const file = readFileSync(join(__dirname, '../../../..', path), 'utf8');
    expect(file).toBe(renderCrd());
  });

  it("the operator's policy types match the schema (run `npm run generate:crd`)", async () => {
    const file = readFileSync(join(__dirname, '../../../..', POLICY_TYPES_FILE), 'utf8');
    expect(file).toBe(await renderPolicyTypes());
  });

  it('describes every field of its schema', () => {
    const undescribed: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (path !== '.metadata' && typeof node.description !== 'string')
        undescribed.push(path || '.');
      for (const [name, child] of Object.entries(
        (node.properties ?? {}) as Record<string, Record<string, unknown>>,
      )) {
        walk(child, `${path}.${name}`);
      }
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
    };
    walk(scalingPolicyCrd.spec.versions[0].schema.openAPIV3Schema, '');
    expect(undescribed).toEqual([]);
  });
});
