/** Where a model is called: a model server's OpenAI-compatible base URL (`http://node:8000/v1`). */
export interface ModelEndpoint {
  model: string;
  url: string;
  /** The GPU node gpu-nodes routed to, or null for a configured endpoint. */
  node: string | null;
}

/** An endpoint held for one call: a VRAM lease is released after it, a route holds nothing. */
export interface HeldEndpoint {
  endpoint: ModelEndpoint;
  release(): Promise<void>;
}

export interface EndpointRequest {
  model: string;
  /** The tenant the job is for (a VRAM lease is its tenant's). */
  tenantId: string;
  /** Endpoints already tried for this model in this job. */
  tried: readonly ModelEndpoint[];
}

/**
 * Where to call a model, and where next after a call failed. `null`: this source has no
 * (more) endpoint for the model.
 */
export interface EndpointSource {
  first(request: EndpointRequest): Promise<HeldEndpoint | null>;
  /** After `failed` failed with `error`: reports it where that helps, and gives the next. */
  next(
    request: EndpointRequest,
    failed: ModelEndpoint,
    error: string,
  ): Promise<HeldEndpoint | null>;
}

export const held = (endpoint: ModelEndpoint): HeldEndpoint => ({
  endpoint,
  release: async () => undefined,
});

/** `*` serves any model. */
export interface StaticEndpoint {
  model: string;
  url: string;
}

/**
 * Reads `LATTICE_MODEL_ENDPOINTS`: `model=url` pairs separated by commas, `*=url` for every
 * model (`stand-in-small=http://127.0.0.1:8090/v1,*=http://10.0.0.5:8000/v1`).
 */
export function parseStaticEndpoints(text: string): StaticEndpoint[] {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`"${entry}" is not <model>=<url>`);
    const model = entry.slice(0, at).trim();
    const url = entry.slice(at + 1).trim();
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`"${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`"${url}" is not an http(s) URL`);
    return { model, url };
  });
}

/** The endpoints configured by hand: each serving its model (or every model), in order. */
export class StaticEndpoints implements EndpointSource {
  constructor(private readonly endpoints: readonly StaticEndpoint[]) {}

  async first(request: EndpointRequest): Promise<HeldEndpoint | null> {
    const tried = new Set(request.tried.map((e) => e.url));
    const found = this.endpoints.find(
      (e) => (e.model === request.model || e.model === '*') && !tried.has(e.url),
    );
    return found ? held({ model: request.model, url: found.url, node: null }) : null;
  }

  next(request: EndpointRequest): Promise<HeldEndpoint | null> {
    return this.first(request);
  }
}

/**
 * One source, then another: routes from gpu-nodes first, the configured endpoints once it has
 * none (no node serves the model, or gpu-nodes does not answer).
 */
export class FallbackEndpoints implements EndpointSource {
  constructor(
    private readonly primary: EndpointSource,
    private readonly secondary: EndpointSource,
  ) {}

  async first(request: EndpointRequest): Promise<HeldEndpoint | null> {
    return (await this.primary.first(request)) ?? this.secondary.first(request);
  }

  async next(request: EndpointRequest, failed: ModelEndpoint, error: string) {
    if (failed.node !== null) {
      const next = await this.primary.next(request, failed, error);
      if (next) return next;
      return this.secondary.first(request);
    }
    return this.secondary.next(request, failed, error);
  }
}
