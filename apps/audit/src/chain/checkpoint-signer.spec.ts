import { generateKeyPairSync } from 'node:crypto';
import { CheckpointSigner } from './checkpoint-signer';

const signer = () => new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
const claim = {
  tenantId: '6f1c3d52-3f0a-4a8e-9d0a-1b2c3d4e5f60',
  seq: 42,
  hash: 'ab'.repeat(32),
  signedAt: '2031-01-01T00:00:00.000Z',
  kind: 'periodic' as const,
};

describe(CheckpointSigner.name, () => {
  it('verifies its own checkpoints and nothing that was changed after signing', () => {
    const s = signer();
    const signed = s.sign(claim);
    expect(s.verify(signed)).toBe(true);
    for (const change of [
      { seq: 43 },
      { hash: 'cd'.repeat(32) },
      { signedAt: '2031-01-02T00:00:00.000Z' },
    ]) {
      expect(s.verify({ ...signed, ...change })).toBe(false);
    }
    expect(s.verify({ ...signed, signature: 'not base64 at all' })).toBe(false);
  });

  it('signs the kind, so a periodic checkpoint cannot pass for a retention cut, nor back', () => {
    const s = signer();
    const periodic = s.sign(claim);
    const retention = s.sign({ ...claim, kind: 'retention' });
    expect(s.verify(retention)).toBe(true);
    expect(s.verify({ ...periodic, kind: 'retention' })).toBe(false);
    expect(s.verify({ ...retention, kind: 'periodic' })).toBe(false);
  });

  it('refuses a checkpoint signed with another key', () => {
    expect(signer().verify(signer().sign(claim))).toBe(false);
  });

  it('refuses a key that is not Ed25519', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => new CheckpointSigner(privateKey)).toThrow(/Ed25519/);
  });
});
