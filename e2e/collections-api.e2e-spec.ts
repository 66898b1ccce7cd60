import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(120_000);

describe('collections and documents through the gateway', () => {
  let platform: E2EPlatform;
  let alice: string;
  let bob: string;

  /** A tenant with one user of these roles; returns the user's access token. */
  const member = async (roles: string[]): Promise<string> =>
    (await platform.newMember(await platform.newTenant({ slugPrefix: 'rag' }), roles)).token;

  beforeAll(async () => {
    platform = await startE2EPlatform();
    alice = await member(['tenant-admin']);
    bob = await member(['tenant-admin']);
  });
  afterAll(async () => {
    if (process.env.E2E_DUMP_LOGS)
      console.log(platform.logs.filter((l) => /error|warn|fatal/.test(l)).join('\n'));
    await platform?.stop();
  });

  it('creates a collection and stores a document once per content; another tenant sees neither', async () => {
    const created = await platform.call('/v1/collections', {
      method: 'POST',
      token: alice,
      json: { name: 'handbook', embeddingModel: 'bge-small-en', embeddingDimension: 384 },
    });
    expect(created.status).toBe(201);
    const collection = await created.json();
    expect(created.headers.get('location')).toBe(`/v1/collections/${collection.id}`);
    expect(collection).toMatchObject({
      name: 'handbook',
      embeddingModel: 'bge-small-en',
      embeddingDimension: 384,
      documentCount: 0,
    });

    const body = {
      sourceName: 'travel.md',
      mediaType: 'text/markdown',
      content: '# Travel\n\nBook through the portal.',
      metadata: { team: 'ops' },
    };
    const first = await platform.call(`/v1/collections/${collection.id}/documents`, {
      method: 'POST',
      token: alice,
      json: body,
    });
    expect(first.status).toBe(201);
    const document = await first.json();
    expect(document).toMatchObject({ status: 'pending', classification: 'internal' });
    const again = await platform.call(`/v1/collections/${collection.id}/documents`, {
      method: 'POST',
      token: alice,
      json: { ...body, sourceName: 'copy.md' },
    });
    expect(again.status).toBe(200);
    // the first document, as its ingest (a job of the embedding queue) has it by now
    expect(await again.json()).toMatchObject({
      id: document.id,
      sourceName: 'travel.md',
      ingestJobId: document.ingestJobId,
    });

    const listed = await (
      await platform.call(`/v1/collections/${collection.id}/documents`, { token: alice })
    ).json();
    expect(listed.items.map((d: { id: string }) => d.id)).toEqual([document.id]);

    for (const path of [
      `/v1/collections/${collection.id}`,
      `/v1/collections/${collection.id}/documents`,
      `/v1/collections/${collection.id}/documents/${document.id}`,
    ]) {
      const theirs = await platform.call(path, { token: bob });
      expect(theirs.status).toBe(404);
      expect(theirs.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    const theirDelete = await platform.call(`/v1/collections/${collection.id}`, {
      method: 'DELETE',
      token: bob,
    });
    expect(theirDelete.status).toBe(404);
    const bobs = await (await platform.call('/v1/collections', { token: bob })).json();
    expect(bobs.items).toEqual([]);

    const deleted = await platform.call(
      `/v1/collections/${collection.id}/documents/${document.id}`,
      { method: 'DELETE', token: alice },
    );
    expect(deleted.status).toBe(200);
    const gone = await platform.call(`/v1/collections/${collection.id}/documents/${document.id}`, {
      token: alice,
    });
    expect(gone.status).toBe(404);
  });

  it('answers bad input with problem+json 4xx naming the reason', async () => {
    const taken = async () =>
      platform.call('/v1/collections', {
        method: 'POST',
        token: alice,
        json: { name: 'twice', embeddingModel: 'm', embeddingDimension: 8 },
      });
    expect((await taken()).status).toBe(201);
    const conflict = await taken();
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toMatch(/application\/problem\+json/);

    const tooWide = await platform.call('/v1/collections', {
      method: 'POST',
      token: alice,
      json: { name: 'wide', embeddingModel: 'm', embeddingDimension: 4096 },
    });
    expect(tooWide.status).toBe(400);

    const collection = await (
      await platform.call('/v1/collections', {
        method: 'POST',
        token: alice,
        json: { name: 'pdfs', embeddingModel: 'm', embeddingDimension: 8 },
      })
    ).json();
    const notBase64 = await platform.call(`/v1/collections/${collection.id}/documents`, {
      method: 'POST',
      token: alice,
      json: {
        sourceName: 'a.pdf',
        mediaType: 'application/pdf',
        content: '%%% not base64',
        contentEncoding: 'base64',
      },
    });
    expect(notBase64.status).toBe(400);
    expect(notBase64.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const badId = await platform.call('/v1/collections/not-a-uuid', { token: alice });
    expect(badId.status).toBe(400);
  });
});
