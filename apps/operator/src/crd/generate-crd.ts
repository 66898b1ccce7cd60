import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderCrd } from './scaling-policy.crd';

// run from the repository root: `npm run generate:crd`
const target = resolve('k8s/crds/scalingpolicies.lattice.dev.yaml');
writeFileSync(target, renderCrd());
console.log(`wrote ${target}`);
