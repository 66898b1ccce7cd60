import { ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
import { ContextSigner } from './context-signer';
import { isPlatformAdmin, serviceContext, type RequestContext } from './request-context';

const secret = 'a-shared-internal-secret-of-32-chars!';
const ctx: RequestContext = {
  tenantId: '7d1e1c1a-9a57-4cd1-8f0e-6b0b0b0b0b0b',
  actor: { type: 'user', id: 'u1', roles: ['developer'] },
  requestId: 'r1',
};

describe(ContextSigner.name, () => {
  it('gives back the context it signed', async () => {
    const signer = new ContextSigner(secret);
    expect(await signer.verify(await signer.sign(ctx))).toEqual(ctx);
  });

  it('refuses a context signed with another secret', async () => {
    const forged = await new ContextSigner('another-secret-of-at-least-32-chars!').sign(ctx);
    await expect(new ContextSigner(secret).verify(forged)).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
  });

  it('refuses a missing context', async () => {
    await expect(new ContextSigner(secret).verify(undefined)).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
  });
});

describe(isPlatformAdmin.name, () => {
  const admin = { ...ctx.actor, roles: [PLATFORM_ADMIN_ROLE] };

  it('holds for a platform-level caller with the platform admin role', () => {
    expect(isPlatformAdmin({ ...ctx, tenantId: null, actor: admin })).toBe(true);
  });

  it('holds neither within a tenant nor without the role', () => {
    expect(isPlatformAdmin({ ...ctx, actor: admin })).toBe(false);
    expect(isPlatformAdmin(serviceContext('gateway'))).toBe(false);
  });
});
