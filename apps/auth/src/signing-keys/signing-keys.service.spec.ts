import { AuthSigningKeyRotated } from '@lattice/contracts';
import { EventBus } from '@lattice/messaging';
import { EnvelopeCipher, KeyRing } from '@lattice/secrets';
import { Clock } from '@lattice/service-runtime';
import { ManualClock, createTestBed, provide, type StrictMock } from '@lattice/testing';
import { importJWK, jwtVerify, type JWK } from 'jose';
import { authSettings } from '../../test/auth-unit.fixtures';
import { AUTH_SETTINGS } from '../auth.settings';
import { SigningKeyRepository, type SigningKeyRow } from './signing-key.repository';
import { SIGNING_ALG, SigningKeys } from './signing-keys.service';

const NOW = new Date('2026-08-01T00:00:00Z');
const DAY_MS = 86_400_000;
const SETTINGS = authSettings();

describe(SigningKeys.name, () => {
  const cipher = new EnvelopeCipher(KeyRing.parse(KeyRing.generateSpec('auth')));
  let sut: SigningKeys;
  let clock: ManualClock;
  let keys: StrictMock<SigningKeyRepository>;
  let events: StrictMock<EventBus>;
  /** The keys as the table keeps them: the last one stored is the active one. */
  let stored: (SigningKeyRow & { retired: boolean })[];

  beforeEach(() => {
    stored = [];
    clock = new ManualClock(NOW);
    const bed = createTestBed(SigningKeys, [
      provide(EnvelopeCipher, cipher),
      provide(Clock, clock),
      provide(AUTH_SETTINGS, SETTINGS),
    ]);
    sut = bed.sut;
    keys = bed.mocks.get(SigningKeyRepository);
    events = bed.mocks.get(EventBus);
    events.publish.mockReturnValue(undefined);
    keys.active.mockImplementation(async () => stored.find((k) => !k.retired));
    keys.replaceActive.mockImplementation(async (key, now) => {
      const retired = stored.filter((k) => !k.retired);
      retired.forEach((k) => (k.retired = true));
      stored.push({
        kid: key.kid,
        public_jwk: key.publicJwk,
        private_jwk_sealed: key.privateJwkSealed,
        created_at: now,
        retired: false,
      });
      return retired.map((k) => k.kid);
    });
  });

  it('signs with a key made on first use, verifiable by its public half', async () => {
    const token = await sut.sign({ tid: 'acme' }, 'user-1', 600);

    const [key] = stored;
    const verified = await jwtVerify(token, await importJWK(key!.public_jwk, SIGNING_ALG), {
      issuer: SETTINGS.issuer,
      audience: SETTINGS.audience,
      currentDate: NOW,
    });
    expect(verified.protectedHeader).toMatchObject({ alg: SIGNING_ALG, kid: key!.kid });
    expect(verified.payload).toMatchObject({
      tid: 'acme',
      sub: 'user-1',
      exp: NOW.getTime() / 1000 + 600,
    });
  });

  it('publishes only the public half, and stores the private half sealed', async () => {
    await sut.rotate();

    const [key] = stored;
    expect(key!.public_jwk).toMatchObject({ kid: key!.kid, alg: SIGNING_ALG, use: 'sig' });
    expect(key!.public_jwk).not.toHaveProperty('d');
    expect(key!.private_jwk_sealed).not.toContain('"d"');
    const opened = JSON.parse(
      cipher.decrypt(key!.private_jwk_sealed, `auth.signing-key:${key!.kid}`).toString('utf8'),
    ) as JWK;
    expect(opened.d).toEqual(expect.any(String));
  });

  it('lets a replaced key verify until the last token it signed has expired', async () => {
    const first = await sut.rotate();

    const second = await sut.rotate();

    expect(second.retired).toEqual([first.kid]);
    expect(keys.replaceActive).toHaveBeenLastCalledWith(
      expect.objectContaining({ kid: second.kid }),
      NOW,
      new Date(NOW.getTime() + (SETTINGS.accessTokenTtlSeconds + 60) * 1000),
    );
  });

  it('replaces the key once it is as old as the rotation period, not before', async () => {
    await sut.ensureFresh();
    expect(stored).toHaveLength(1);

    clock.advance(SETTINGS.keyRotationDays * DAY_MS - 1);
    await sut.ensureFresh();
    expect(stored).toHaveLength(1);

    clock.advance(1);
    await sut.ensureFresh();
    expect(stored.map((k) => k.retired)).toEqual([true, false]);
    // gateways hear of each new key before anything is signed with it
    expect(events.publish).toHaveBeenLastCalledWith(AuthSigningKeyRotated, { kid: stored[1]!.kid });
  });
});
