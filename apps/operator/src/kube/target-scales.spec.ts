import { scaleOf } from './target-scales';

describe(scaleOf.name, () => {
  it('reads a Deployment the way its scale subresource shows it', () => {
    expect(
      scaleOf({
        metadata: { name: 'worker', namespace: 'ml', resourceVersion: '42' },
        spec: {
          replicas: 3,
          selector: {
            matchLabels: { app: 'worker' },
            matchExpressions: [{ key: 'tier', operator: 'In', values: ['gpu'] }],
          },
        },
        status: { replicas: 2 },
      }),
    ).toEqual({ replicas: 3, statusReplicas: 2, selector: 'app=worker,tier in (gpu)' });
  });

  it('reads a target with no status yet as running nothing', () => {
    expect(scaleOf({ spec: { replicas: 1, selector: { matchLabels: { app: 'a' } } } })).toEqual({
      replicas: 1,
      statusReplicas: 0,
      selector: 'app=a',
    });
  });
});
