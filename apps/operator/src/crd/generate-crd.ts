import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderCrd } from './scaling-policy.crd';
import { POLICY_TYPES_FILE, renderPolicyTypes } from './scaling-policy.types.render';

// run from the repository root: `npm run generate:crd`
async function main(): Promise<void> {
  const crd = resolve('k8s/crds/scalingpolicies.lattice.dev.yaml');
  writeFileSync(crd, renderCrd());
  console.log(`wrote ${crd}`);
  const types = resolve(POLICY_TYPES_FILE);
  writeFileSync(types, await renderPolicyTypes());
  console.log(`wrote ${types}`);
}

void main();
