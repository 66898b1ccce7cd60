import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A scripted answer the stand-in gives instead of embeddings, once. */
export interface ScriptedFailure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Hold the request open without answering (a server that hangs). */
  hang?: boolean;
}

export interface RecordedRequest {
  at: number;
  authorization: string | undefined;
  body: { model: string; input: string[]; encoding_format?: string; dimensions?: number };
}

/**
 * A stand-in for an embeddings server (the provider is outside the product), speaking the
 * OpenAI protocol: `POST /v1/embeddings` with `{ model, input, encoding_format }`, answering
 * `{ object: "list", data: [{ object: "embedding", index, embedding }], model, usage }`, errors
 * as `{ error: { message, type, code } }`. Its vectors are a hash of the text, deliberately not of
 * unit length, so a client's normalisation shows. Failures can be scripted in order.
 */
export class OpenAiEmbeddingsStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly failures: ScriptedFailure[] = [];
  private server?: Server;
  private readonly hanging = new Set<ServerResponse>();

  constructor(
    readonly options: { dimension: number; apiKey?: string; model?: string; base64?: boolean },
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  /** The vector the stand-in gives a text, before any normalisation. */
  vectorOf(text: string): number[] {
    const digest = createHash('sha256').update(text).digest();
    return Array.from({ length: this.options.dimension }, (_, i) => digest[i % 32] - 100);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
      return this.error(res, 404, 'not found', 'invalid_request_error');
    }
    if (this.options.apiKey && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return this.error(res, 401, 'Incorrect API key provided', 'invalid_request_error');
    }
    let body: RecordedRequest['body'];
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        model: string;
        input: string | string[];
      };
      body = { ...parsed, input: typeof parsed.input === 'string' ? [parsed.input] : parsed.input };
    } catch {
      return this.error(res, 400, 'We could not parse the JSON body', 'invalid_request_error');
    }
    this.requests.push({ at: Date.now(), authorization: req.headers.authorization, body });
    if (this.options.model && body.model !== this.options.model) {
      return this.error(
        res,
        404,
        `The model '${body.model}' does not exist`,
        'invalid_request_error',
      );
    }
    const failure = this.failures.shift();
    if (failure?.hang) {
      this.hanging.add(res);
      return;
    }
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
      res.end(
        JSON.stringify(
          failure.body ?? { error: { message: `status ${failure.status}`, type: 'server_error' } },
        ),
      );
      return;
    }
    const data = body.input.map((text, index) => {
      const vector = this.vectorOf(text);
      return {
        object: 'embedding',
        index,
        embedding: this.options.base64
          ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
          : vector,
      };
    });
    const tokens = body.input.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
    res.writeHead(200, { 'content-type': 'application/json' });
    // answered in reverse order: the protocol gives each item its index, clients must use it
    res.end(
      JSON.stringify({
        object: 'list',
        data: data.reverse(),
        model: body.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      }),
    );
  }

  private error(res: ServerResponse, status: number, message: string, type: string): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type, param: null, code: null } }));
  }
}
