import { parseDcgmExporter } from './dcgm-exporter.parser';
import { GpuSourceError, type GpuSnapshot, type GpuSource } from './gpu-source';

/** Reads the DCGM exporter's `/metrics` over HTTP. */
export class DcgmExporterSource implements GpuSource {
  readonly kind = 'dcgm-exporter' as const;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async read(): Promise<GpuSnapshot> {
    let body: string;
    try {
      const response = await fetch(this.url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'text/plain' },
      });
      body = await response.text();
      if (!response.ok) {
        throw new GpuSourceError(`the DCGM exporter at ${this.url} answered ${response.status}`);
      }
    } catch (error) {
      if (error instanceof GpuSourceError) throw error;
      throw new GpuSourceError(
        `the DCGM exporter at ${this.url} is unreachable: ${describe(error)}`,
      );
    }
    return parseDcgmExporter(body);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    if (error.name === 'TimeoutError') return 'no answer in time';
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
