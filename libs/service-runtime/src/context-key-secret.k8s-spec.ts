import { CoreV1Api } from '@kubernetes/client-node';
import { testKubeConfig } from '@lattice/kube-test-env';
import { ContextSigner, serviceContext } from '@lattice/request-context';
import { ensureContextKeySecret } from './context-key-secret';

describe(ensureContextKeySecret.name, () => {
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  const namespace = `context-keys-${Date.now().toString(36)}`;
  const name = 'lattice-context-keys';
  const read = async () => core.readNamespacedSecret({ name, namespace });
  const text = (data: Record<string, string>, key: string) =>
    Buffer.from(data[key]!, 'base64').toString('utf8');
  const signerFrom = (data: Record<string, string>, service: string) =>
    ContextSigner.fromConfig(service, {
      LATTICE_CONTEXT_KEY: text(data, `context-key-${service}`),
      LATTICE_CONTEXT_PUBLIC_KEYS: text(data, 'context-public-keys'),
    });

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  it('creates the Secret: a key per service and the JWKS that trusts each', async () => {
    const outcome = await ensureContextKeySecret(core, {
      namespace,
      name,
      services: ['gateway', 'scheduler', 'tenants'],
    });
    expect(outcome).toEqual({ created: true, generated: ['gateway', 'scheduler', 'tenants'] });
    const { data } = await read();
    expect(Object.keys(data!).sort()).toEqual([
      'context-key-gateway',
      'context-key-scheduler',
      'context-key-tenants',
      'context-public-keys',
    ]);
    const own = serviceContext('scheduler');
    expect(
      await signerFrom(data!, 'tenants').verify(await signerFrom(data!, 'scheduler').sign(own)),
    ).toEqual(own);
  });

  it('changes nothing when run again (every install and upgrade runs it)', async () => {
    const before = await read();
    const outcome = await ensureContextKeySecret(core, {
      namespace,
      name,
      services: ['gateway', 'scheduler', 'tenants'],
    });
    expect(outcome).toEqual({ created: false, generated: [] });
    const after = await read();
    expect(after.data).toEqual(before.data);
    expect(after.metadata!.resourceVersion).toBe(before.metadata!.resourceVersion);
  });

  it("adds a new service's key, keeping every other key, and trusts it everywhere", async () => {
    const before = (await read()).data!;
    const outcome = await ensureContextKeySecret(core, {
      namespace,
      name,
      services: ['gateway', 'scheduler', 'tenants', 'gpu-nodes'],
    });
    expect(outcome).toEqual({ created: false, generated: ['gpu-nodes'] });
    const after = (await read()).data!;
    for (const service of ['gateway', 'scheduler', 'tenants']) {
      expect(after[`context-key-${service}`]).toBe(before[`context-key-${service}`]);
    }
    const own = serviceContext('gpu-nodes');
    expect(
      await signerFrom(after, 'scheduler').verify(await signerFrom(after, 'gpu-nodes').sign(own)),
    ).toEqual(own);
    // a service the old keys knew still verifies with the new JWKS
    const scheduler = serviceContext('scheduler');
    expect(
      await signerFrom(after, 'gateway').verify(
        await signerFrom(before, 'scheduler').sign(scheduler),
      ),
    ).toEqual(scheduler);
  });

  it('stops on a damaged key rather than replacing it, naming the service', async () => {
    await core.patchNamespacedSecret({
      name,
      namespace,
      body: [
        {
          op: 'replace',
          path: '/data/context-key-tenants',
          value: Buffer.from('not a key').toString('base64'),
        },
      ],
    });
    await expect(
      ensureContextKeySecret(core, { namespace, name, services: ['tenants'] }),
    ).rejects.toThrow(/tenants/);
    expect(text((await read()).data!, 'context-key-tenants')).toBe('not a key');
  });
});
