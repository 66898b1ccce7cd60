import { jsonDepth, jsonObject } from './common.schema';

/** A value nested `levels` deep, built without recursion. */
const nested = (levels: number): Record<string, unknown> =>
  JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`) as Record<string, unknown>;

describe(jsonObject.name, () => {
  const Settings = jsonObject('settings', { maxDepth: 4, maxBytes: 200 });

  it('takes JSON objects within its bounds', () => {
    expect(Settings.parse({ a: { b: [1, { c: 'x' }] }, d: null })).toEqual({
      a: { b: [1, { c: 'x' }] },
      d: null,
    });
  });

  it('refuses a value nested beyond the bound, however deep, without overflowing the stack', () => {
    expect(Settings.safeParse(nested(5)).error?.issues[0]?.message).toBe(
      'settings may nest at most 4 levels',
    );
    expect(Settings.safeParse(nested(50_000)).success).toBe(false);
  });

  it('refuses a value too large, and values that are not JSON', () => {
    expect(Settings.safeParse({ a: 'x'.repeat(300) }).error?.issues[0]?.message).toBe(
      'settings must serialise to at most 200 bytes',
    );
    expect(Settings.safeParse({ a: () => 1 }).success).toBe(false);
    expect(Settings.safeParse({ a: 1n }).success).toBe(false);
  });

  it('refuses strings storage cannot keep, at any depth and in keys', () => {
    expect(Settings.safeParse({ a: { b: ['x\u0000'] } }).success).toBe(false);
    expect(Settings.safeParse({ a: { 'b\ud800': 1 } }).success).toBe(false);
    expect(Settings.safeParse({ 'a\u0000': 1 }).success).toBe(false);
  });

  it('counts depth as JSON nests it', () => {
    expect([jsonDepth(1), jsonDepth({}), jsonDepth({ a: [{}] }), jsonDepth(nested(3))]).toEqual([
      0, 1, 3, 3,
    ]);
  });
});
