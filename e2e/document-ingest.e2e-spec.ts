import { randomUUID } from 'node:crypto';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { DOCUMENT_MAX_BYTES } from '@lattice/contracts';
import { eventually } from '@lattice/testing';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(180_000);

async function pdf(lines: string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage();
  lines.forEach((line, i) => page.drawText(line, { x: 50, y: 700 - i * 20, font, size: 12 }));
  return Buffer.from(await doc.save());
}

describe('document ingest through the gateway', () => {
  let platform: E2EPlatform;
  let alice: string;
  let bob: string;

  /** A tenant with one user of these roles; returns the user's access token. */
  const member = async (roles: string[]): Promise<string> =>
    (await platform.newMember(await platform.newTenant({ slugPrefix: 'ing' }), roles)).token;

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

  it('ingests a Markdown document and a PDF into chunks with the offline model; another tenant gets 404', async () => {
    // no model named: the service's own (the offline model in `npm start` and here)
    const created = await platform.call('/v1/collections', {
      method: 'POST',
      token: alice,
      json: { name: 'manuals' },
    });
    expect(created.status).toBe(201);
    const collection = await created.json();
    expect(collection).toMatchObject({
      embeddingModel: 'universal-sentence-encoder-lite',
      embeddingDimension: 512,
    });
    const documents = `/v1/collections/${collection.id}/documents`;

    const markdown = await platform.call(documents, {
      method: 'POST',
      token: alice,
      json: {
        sourceName: 'boilers.md',
        mediaType: 'text/markdown',
        content:
          '# Boilers\n\nBleed the radiators before winter.\n\n## Pressure\n\nKeep it between one and two bar.',
      },
    });
    expect(markdown.status).toBe(201);
    const pdfBody = await pdf(['Ventilation', 'Open the windows twice a day for ten minutes.']);
    const pdfDoc = await platform.call(documents, {
      method: 'POST',
      token: alice,
      json: {
        sourceName: 'air.pdf',
        mediaType: 'application/pdf',
        content: pdfBody.toString('base64'),
        contentEncoding: 'base64',
      },
    });
    expect(pdfDoc.status).toBe(201);

    for (const posted of [await markdown.json(), await pdfDoc.json()]) {
      expect(posted.ingestJobId).toEqual(expect.any(String));
      const path = `${documents}/${posted.id}`;
      const ready = await eventually(
        async () => {
          const now = await (await platform.call(path, { token: alice })).json();
          expect(now.status).toBe('ready');
          return now;
        },
        { timeoutMs: 120_000, intervalMs: 500 },
      );
      expect(ready.chunkCount).toBeGreaterThan(0);
      expect(ready.error).toBeNull();

      const job = await eventually(async () => {
        const j = await (
          await platform.call(`/v1/jobs/${posted.ingestJobId}`, { token: alice })
        ).json();
        expect(j.state).toBe('succeeded');
        return j;
      });
      expect(job).toMatchObject({
        queue: 'embedding',
        type: 'rag.ingest',
        progress: { done: ready.chunkCount, total: ready.chunkCount },
      });

      const theirs = await platform.call(path, { token: bob });
      expect(theirs.status).toBe(404);
      expect(theirs.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    // the offline model was loaded at start, and the log says how long that took
    expect(platform.logs.some((l) => /^rag .*"loadMs":\d+.*embedding model loaded/.test(l))).toBe(
      true,
    );
  });

  it('refuses a document over the size limit with a 413 problem, storing nothing', async () => {
    const collection = await (
      await platform.call('/v1/collections', {
        method: 'POST',
        token: alice,
        json: { name: `big-${randomUUID().slice(0, 6)}` },
      })
    ).json();
    const documents = `/v1/collections/${collection.id}/documents`;
    const tooLarge = await platform.call(documents, {
      method: 'POST',
      token: alice,
      json: {
        sourceName: 'big.pdf',
        mediaType: 'application/pdf',
        content: Buffer.alloc(DOCUMENT_MAX_BYTES + 1, 7).toString('base64'),
        contentEncoding: 'base64',
      },
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const listed = await (await platform.call(documents, { token: alice })).json();
    expect(listed.items).toEqual([]);
  });
});
