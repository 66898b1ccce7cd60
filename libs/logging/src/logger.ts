import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

const REDACT = [
  'password',
  'secret',
  'token',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

export type LogFormat = 'json' | 'pretty';

/**
 * LATTICE_LOG_FORMAT, else readable lines on a terminal and JSON everywhere else (a pipe, a
 * container's log): machines get JSON unless a person asks otherwise.
 */
export function defaultLogFormat(
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stdout.isTTY),
): LogFormat {
  const asked = env.LATTICE_LOG_FORMAT;
  if (asked === 'json' || asked === 'pretty') return asked;
  return isTTY ? 'pretty' : 'json';
}

/** One line per entry for a person: time, level, [Nest context] message, then any other fields. */
function prettyStream(destination?: NodeJS.WritableStream) {
  return pretty({
    ...(destination ? { destination } : { sync: true }),
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
}

/** Logs with the active trace and span ids on every line: JSON, or readable (see above). */
export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL ?? 'info',
  format: LogFormat = defaultLogFormat(),
  /** Where lines go; standard output when omitted. */
  destination?: NodeJS.WritableStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const span = trace.getActiveSpan()?.spanContext();
      return span && isSpanContextValid(span)
        ? { trace_id: span.traceId, span_id: span.spanId }
        : {};
    },
  };
  if (format === 'pretty') return pino(options, prettyStream(destination));
  const json = { ...options, formatters: { level: (label: string) => ({ level: label }) } };
  // standard output takes lines in batches: written once 4 KiB wait, or a tenth of a second
  // after the first, not one system call per line on the thread that serves requests (the
  // request line cost the gateway about 20 us of CPU a request written alone, 14 batched).
  // pino writes what waits synchronously when the process exits, a crash included; a process
  // killed outright loses at most that tenth of a second.
  return pino(
    json,
    destination ?? pino.destination({ dest: 1, minLength: 4096, periodicFlush: 100 }),
  );
}

/**
 * Nest's start-up chatter (every module loaded, every route mapped): what a developer looks for
 * at debug level, and a hundred lines before the one that matters at info.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'NestApplication',
  'NestMicroservice',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
]);

/** Lets Nest write through the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    if (context && FRAMEWORK_CONTEXTS.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, stack: trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
