import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { freePort } from '@lattice/local-infra';
import { eventually } from '@lattice/testing';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(60_000);

interface ExportedSpan {
  service: string;
  traceId: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** A small OTLP/HTTP (JSON) receiver: where a collector would be. */
async function startOtlpReceiver(): Promise<{
  url: string;
  spans: ExportedSpan[];
  server: Server;
}> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        const payload = JSON.parse(body);
        for (const rs of payload.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find(
            (a: { key: string }) => a.key === 'service.name',
          )?.value?.stringValue;
          for (const ss of rs.scopeSpans ?? []) {
            for (const span of ss.spans ?? []) {
              const attributes = Object.fromEntries(
                (span.attributes ?? []).map(
                  (a: { key: string; value: Record<string, unknown> }) => [
                    a.key,
                    Object.values(a.value)[0],
                  ],
                ),
              );
              spans.push({ service, traceId: span.traceId, name: span.name, attributes });
            }
          }
        }
      } catch {
        // not JSON: ignored, the assertions will show nothing arrived
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, spans, server };
}

describe('tracing across gateway, NATS and the tenants service', () => {
  let platform: E2EPlatform;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    platform = await startE2EPlatform({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });
  afterAll(async () => {
    await platform?.stop();
    receiver?.server.close();
  });

  it('carries one trace id from the HTTP request through NATS into the SQL of the tenants service', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug: `trace-${traceId.slice(0, 8)}`, name: 'Traced' },
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect(response.status).toBe(201);

    await eventually(
      () => {
        const ours = receiver.spans.filter((s) => s.traceId === traceId);
        expect(
          ours.some((s) => s.service === 'lattice-gateway' && s.name.includes('tenants.v1.create')),
        ).toBe(true);
        expect(
          ours.some((s) => s.service === 'lattice-tenants' && s.name.includes('tenants.v1.create')),
        ).toBe(true);
        expect(
          ours.some((s) => s.service === 'lattice-tenants' && s.name.startsWith('pg.query:INSERT')),
        ).toBe(true);
      },
      { timeoutMs: 15_000 },
    );
    // and the gateway's log line for the request names the same trace
    await eventually(() =>
      expect(
        platform.logs.some((l) => l.startsWith('gateway') && l.includes(`"trace_id":"${traceId}"`)),
      ).toBe(true),
    );
  });
});
