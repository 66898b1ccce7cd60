import { labelMatcher, selectorString } from './label-selector';

describe(selectorString.name, () => {
  it('writes a selector the way a scale subresource publishes it', () => {
    expect(selectorString({ matchLabels: { app: 'web' } })).toBe('app=web');
    expect(
      selectorString({
        matchLabels: { tier: 'gpu', app: 'inference' },
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['b', 'a'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'pool', operator: 'Exists' },
          { key: 'model', operator: 'NotIn', values: ['old'] },
        ],
      }),
    ).toBe('app=inference,!canary,model notin (old),pool,tier=gpu,zone in (a,b)');
    expect(selectorString({})).toBe('');
  });
});

describe(labelMatcher.name, () => {
  const pod = (labels: Record<string, string>) => labels;

  it('matches equality, sets and existence as the API server does', () => {
    const matches = labelMatcher('app=inference,zone in (a, b),!canary,pool,model notin (old)');
    expect(matches(pod({ app: 'inference', zone: 'a', pool: 'v100', model: 'new' }))).toBe(true);
    expect(matches(pod({ app: 'inference', zone: 'b', pool: 'v100' }))).toBe(true);
    expect(matches(pod({ app: 'inference', zone: 'c', pool: 'v100' }))).toBe(false);
    expect(matches(pod({ app: 'inference', zone: 'a', pool: 'v100', canary: 'y' }))).toBe(false);
    expect(matches(pod({ app: 'inference', zone: 'a' }))).toBe(false);
    expect(matches(pod({ app: 'inference', zone: 'a', pool: 'x', model: 'old' }))).toBe(false);
    expect(matches(pod({ app: 'web', zone: 'a', pool: 'v100' }))).toBe(false);
    expect(matches(undefined)).toBe(false);
  });

  it('reads == and != and numeric bounds', () => {
    expect(labelMatcher('app==web')(pod({ app: 'web' }))).toBe(true);
    expect(labelMatcher('track!=canary')(pod({}))).toBe(true);
    expect(labelMatcher('track!=canary')(pod({ track: 'canary' }))).toBe(false);
    expect(labelMatcher('gen>3')(pod({ gen: '4' }))).toBe(true);
    expect(labelMatcher('gen<3')(pod({ gen: '4' }))).toBe(false);
    expect(labelMatcher('gen<3')(pod({ gen: 'x' }))).toBe(false);
  });

  it('matches every pod with the empty selector and reads back what selectorString writes', () => {
    expect(labelMatcher('')(pod({ any: 'thing' }))).toBe(true);
    const text = selectorString({
      matchLabels: { 'app.kubernetes.io/name': 'worker' },
      matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }],
    });
    expect(labelMatcher(text)(pod({ 'app.kubernetes.io/name': 'worker', zone: 'b' }))).toBe(true);
    expect(labelMatcher(text)(pod({ 'app.kubernetes.io/name': 'worker', zone: 'c' }))).toBe(false);
  });

  it('refuses what is not a selector rather than matching everything', () => {
    expect(() => labelMatcher('app=web,,')).toThrow('"" is not a label selector requirement');
    expect(() => labelMatcher('app in web')).toThrow('is not a label selector requirement');
  });
});
