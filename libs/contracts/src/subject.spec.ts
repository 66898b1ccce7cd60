import { z } from 'zod';
import { event, stream, streamSubject, subjectCovers } from './subject';
import { TenantEvents, TenantLifecycle } from './tenants/tenants.subjects';

describe(subjectCovers.name, () => {
  it.each([
    ['usage.v1.>', 'usage.v1.recorded.>'],
    ['usage.v1.>', 'usage.v1.recorded'],
    ['a.*.c', 'a.b.c'],
    ['a.*.c', 'a.*.c'],
    ['a.b', 'a.b'],
    ['>', 'a'],
  ])('%s covers %s', (pattern, filter) => expect(subjectCovers(pattern, filter)).toBe(true));

  it.each([
    ['usage.v1.>', 'usage.v1'],
    ['usage.v1.>', 'usage.v2.recorded.>'],
    ['a.*.c', 'a.>'],
    ['a.*', 'a.b.c'],
    ['a.b', 'a.b.c'],
    ['a.b.c', 'a.b'],
    ['a.b', 'a.*'],
  ])('%s does not cover %s', (pattern, filter) =>
    expect(subjectCovers(pattern, filter)).toBe(false),
  );
});

describe(streamSubject.name, () => {
  it('gives each contract the filter that hears every message under its subject', () => {
    const kept = stream('KEPT', ['kept.v1.>']);
    expect(streamSubject(kept, 'kept.v1.things', z.object({})).filter).toBe('kept.v1.things.>');
  });

  it('refuses a contract outside the subjects of its stream', () => {
    const kept = stream('KEPT', ['kept.v1.>']);
    expect(() => streamSubject(kept, 'other.v1.things', z.object({}))).toThrow(
      'other.v1.things.> is not among the subjects of stream KEPT',
    );
  });

  it('refuses a stream that keeps nothing', () => {
    expect(() => stream('EMPTY', [])).toThrow('keeps no subject');
  });
});

describe(event.name, () => {
  it('hears an event on a fixed subject on that subject alone', () => {
    const revoked = event('keys.v1.events.revoked', z.object({}));
    expect(revoked).toMatchObject({ kind: 'event', suffixed: false });
    expect(revoked.filter).toBe('keys.v1.events.revoked');
  });

  it('hears a suffixed event under every suffix', () => {
    const changed = event('things.v1.events', z.object({}), { suffixed: true });
    expect(changed).toMatchObject({ kind: 'event', suffixed: true });
    expect(changed.filter).toBe('things.v1.events.>');
  });

  it('keeps tenant lifecycle events in their stream under the same subject and schema', () => {
    expect(TenantEvents.subject).toBe(TenantLifecycle.subject);
    expect(TenantEvents.message).toBe(TenantLifecycle.message);
  });
});
