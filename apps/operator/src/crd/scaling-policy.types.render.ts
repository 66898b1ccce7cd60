import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { scalingPolicyCrd } from './scaling-policy.crd';

/** Where the generated types are committed, from the repository root. */
export const POLICY_TYPES_FILE = 'apps/operator/src/policy/scaling-policy.generated.ts';

type Node = JSONSchema & { properties?: Record<string, Node>; items?: Node };

/**
 * The TypeScript types of a ScalingPolicy's spec and status, generated from the CRD's schema
 * so the operator reads exactly what the API server accepts. `npm run generate:crd` writes
 * them; a unit test fails when the committed file is stale.
 */
export async function renderPolicyTypes(): Promise<string> {
  const schema = structuredClone(
    scalingPolicyCrd.spec.versions[0].schema.openAPIV3Schema,
  ) as unknown as Node;
  const spec = at(schema, 'spec');
  const status = at(schema, 'status');

  // names for the parts the operator refers to; the rest stay inline
  spec.title = 'ScalingPolicySpec';
  at(spec, 'metrics').items!.title = 'MetricSpec';
  at(spec, 'holdScaleDownWhen').items!.title = 'GateSpec';
  const behavior = at(spec, 'behavior');
  at(behavior, 'scaleUp').title = 'ScalingRulesSpec';
  // scale-down rules have the same shape, and how long a scale-in waits for workers to drain
  const scaleDown = at(behavior, 'scaleDown');
  scaleDown.title = 'ScaleDownRulesSpec';
  at(scaleDown, 'policies').items = { tsType: 'ScalingRulePolicy' };
  status.title = 'ScalingPolicyStatus';
  at(status, 'drain').title = 'DrainStatus';
  at(status, 'currentMetrics').items!.title = 'MetricStatus';
  at(status, 'gates').items!.title = 'GateStatus';
  at(status, 'conditions').items!.title = 'StatusCondition';

  at(at(behavior, 'scaleUp'), 'policies').items!.title = 'ScalingRulePolicy';
  // unformatted (Prettier leaves the file alone), so the drift test needs no formatter
  const options = { additionalProperties: false, format: false, maxItems: -1 };
  const banner =
    '// Generated from the ScalingPolicy CRD schema (apps/operator/src/crd/scaling-policy.crd.ts)\n' +
    '// by `npm run generate:crd`. Do not edit: change the schema and generate again.\n';
  const specTypes = await compile(spec, 'ScalingPolicySpec', { ...options, bannerComment: banner });
  const statusTypes = await compile(status, 'ScalingPolicyStatus', {
    ...options,
    bannerComment: '',
  });
  return `${specTypes}\n${statusTypes}`;
}

function at(node: Node, property: string): Node {
  const child = node.properties?.[property];
  if (!child) throw new Error(`the ScalingPolicy schema has no ${property}`);
  return child;
}
