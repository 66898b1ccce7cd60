import { PasswordHasher } from './password-hasher';

describe(PasswordHasher.name, () => {
  const hasher = new PasswordHasher(12);

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(stored).not.toContain('correct');
    expect(await hasher.verify('correct horse battery staple', stored)).toBe(true);
    expect(await hasher.verify('correct horse battery stapler', stored)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hasher.hash('same password')).not.toEqual(await hasher.hash('same password'));
  });

  it('keeps verifying hashes made at an older cost, and asks for them to be redone', async () => {
    const old = await new PasswordHasher(10).hash('a long enough password');
    expect(await hasher.verify('a long enough password', old)).toBe(true);
    expect(hasher.needsRehash(old)).toBe(true);
    expect(hasher.needsRehash(await hasher.hash('x'))).toBe(false);
  });

  it('refuses a stored value that is not one of its hashes', async () => {
    expect(await hasher.verify('anything', 'plain-text-password')).toBe(false);
    expect(await hasher.verify('anything', 'scrypt$a$b$c$d$e')).toBe(false);
  });
});
