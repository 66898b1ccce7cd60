import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrd, scalingPolicyCrd } from './scaling-policy.crd';

describe('ScalingPolicy CRD', () => {
  it('k8s/crds matches the schema in code (run `npm run generate:crd`)', () => {
    const file = readFileSync(
      join(__dirname, '../../../../k8s/crds/scalingpolicies.lattice.dev.yaml'),
      'utf8',
    );
    expect(file).toBe(renderCrd());
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
