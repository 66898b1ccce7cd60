import { z } from 'zod';
import { event, stream, streamSubject, subject } from '../subject';
import { natsPermissions, natsPermissionsDocument } from './nats-permissions';
import { SERVICE_ACCESS } from './services.access';
import { serviceAccess } from './service-access';

const Get = subject('things.v1.get', z.object({}), z.object({}));
const Other = subject('others.v1.get', z.object({}), z.object({}));
const Changed = event('things.v1.changed', z.object({}), { suffixed: true });
const Kept = stream('THINGS', ['things.v1.kept.>']);
const KeptThing = streamSubject(Kept, 'things.v1.kept', z.object({}));

describe(natsPermissions.name, () => {
  it('lets a handler hear its subjects in its own queue group only, and answer them', () => {
    const rights = natsPermissions(serviceAccess({ service: 'things', handles: [Get] }));
    expect(rights.subscribe.allow).toEqual(['things.v1.get things']);
    expect(rights.allow_responses).toBe(true);
    // it answers on the caller's inbox through allow_responses, not a right to publish there
    expect(rights.publish).toEqual({ allow: [], deny: ['>'] });
  });

  it('lets a caller publish the subjects it calls and hear its inbox, nothing else', () => {
    const rights = natsPermissions(serviceAccess({ service: 'caller', calls: [Other] }));
    expect(rights).toEqual({
      service: 'caller',
      publish: { allow: ['others.v1.get'] },
      subscribe: { allow: ['_INBOX.>'] },
    });
  });

  it("gives a stream's owner that stream's API, a consumer its own durable's", () => {
    const rights = natsPermissions(
      serviceAccess({
        service: 'keeper',
        streams: [Kept],
        publishes: [KeptThing],
        consumes: [{ contract: KeptThing, durable: 'keeper-things' }],
      }),
    );
    expect(rights.publish.allow).toEqual([
      '$JS.ACK.THINGS.keeper-things.>',
      '$JS.API.CONSUMER.CREATE.THINGS.keeper-things',
      '$JS.API.CONSUMER.CREATE.THINGS.keeper-things.>',
      '$JS.API.CONSUMER.DURABLE.CREATE.THINGS.keeper-things',
      '$JS.API.CONSUMER.INFO.THINGS.keeper-things',
      '$JS.API.CONSUMER.MSG.NEXT.THINGS.keeper-things',
      '$JS.API.INFO',
      '$JS.API.STREAM.CREATE.THINGS',
      '$JS.API.STREAM.INFO.THINGS',
      '$JS.API.STREAM.UPDATE.THINGS',
      'things.v1.kept.>',
    ]);
    // no right to delete a stream, purge it, or read another's consumer
    expect(rights.publish.allow.some((s) => /DELETE|PURGE|\*/.test(s))).toBe(false);
  });

  it('prefixes subjects, streams and durables with the installation namespace', () => {
    const rights = natsPermissions(
      serviceAccess({
        service: 'keeper',
        handles: [Get],
        emits: [Changed],
        consumes: [{ contract: KeptThing, durable: 'd' }],
      }),
      'blue',
    );
    expect(rights.subscribe.allow).toEqual(['_INBOX.>', 'blue.things.v1.get keeper']);
    expect(rights.publish.allow).toContain('blue.things.v1.changed.>');
    expect(rights.publish.allow).toContain('$JS.API.CONSUMER.MSG.NEXT.blue_THINGS.blue_d');
  });

  it('spells a service that hears nothing as one denied every subscription', () => {
    const rights = natsPermissions(serviceAccess({ service: 'teller', emits: [Changed] }));
    expect(rights.subscribe).toEqual({ allow: [], deny: ['>'] });
  });
});

describe(natsPermissionsDocument.name, () => {
  it('refuses a service declared twice', () => {
    const twice = serviceAccess({ service: 'things' });
    expect(() => natsPermissionsDocument([twice, twice])).toThrow(/declared twice/);
  });

  it('gives no platform service a wildcard beyond what it declares', () => {
    for (const user of natsPermissionsDocument(SERVICE_ACCESS).users) {
      const wide = user.publish.allow.filter((s) => s === '>' || s.startsWith('$JS.API.>'));
      expect({ service: user.service, wide }).toEqual({ service: user.service, wide: [] });
    }
  });
});
