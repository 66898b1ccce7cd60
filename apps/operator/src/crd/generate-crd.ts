import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderCrd } from './scaling-policy.crd';
import { POLICY_TYPES_FILE, renderPolicyTypes } from './scaling-policy.types.render';

const CRD_FILES = [
  'k8s/crds/scalingpolicies.lattice.dev.yaml',
  'charts/lattice/crds/scalingpolicies.lattice.dev.yaml',
];

// run from the repository root: `npm run generate:crd`
async function main(): Promise<void> {
  // the plain manifests and the chart ship the same CRD
  for (const file of CRD_FILES) {
    const crd = resolve(file);
    writeFileSync(crd, renderCrd());
    console.log(`wrote ${crd}`);
  }
  const types = resolve(POLICY_TYPES_FILE);
  writeFileSync(types, await renderPolicyTypes());
  console.log(`wrote ${types}`);
}

void main();
