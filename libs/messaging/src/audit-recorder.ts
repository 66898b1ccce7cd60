import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import {
  AuditEvent,
  AuditEvents,
  AuditStream,
  type AuditActor,
  type AuditEventInput,
} from '@lattice/contracts';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { auditText, storableAuditEvent } from './audit-sanitiser';
import { ensureStream, type JetStreamPublisher } from './jetstream';
import type { SubjectNamespace } from './namespace';
import type { RequestContext } from '@lattice/request-context';

/** How long events wait in the AUDIT stream for the audit service, at most. */
export const AUDIT_STREAM_MAX_AGE_DAYS = 30;

/**
 * Creates the AUDIT stream with the one configuration every publisher and the audit service
 * agree on: file storage, events kept until the audit service has them (up to 30 days), and a
 * duplicate window for retried publishes.
 */
export function ensureAuditStream(nc: NatsConnection, ns: SubjectNamespace): Promise<void> {
  return ensureStream(nc, ns, AuditStream, {
    max_age: AUDIT_STREAM_MAX_AGE_DAYS * 24 * 3600 * 1_000_000_000,
  });
}

/** What a caller says happened; the recorder adds the id, the time and the trace id. */
export type AuditRecord = Omit<AuditEventInput, 'id' | 'occurredAt'> &
  Partial<Pick<AuditEventInput, 'id' | 'occurredAt'>>;

export interface AuditRecorderOptions {
  logger: Logger;
  /** Events held while JetStream cannot take them; beyond this the oldest are dropped. */
  maxBuffered?: number;
  /** Publishes at once, at most. */
  concurrency?: number;
  /** Where to expose the count of dropped events (`lattice_audit_events_dropped_total`). */
  metrics?: Registry;
}

const DROPPED_METRIC = 'lattice_audit_events_dropped_total';

/** The process's one counter of dropped events in a registry, however many recorders share it. */
function droppedCounter(registry: Registry): Counter {
  const existing = registry.getSingleMetric(DROPPED_METRIC);
  if (existing) return existing as Counter;
  return new Counter({
    name: DROPPED_METRIC,
    help: 'Audit events dropped, oldest first, because the recorder’s buffer was full while JetStream could not take them.',
    registers: [registry],
  });
}

/**
 * Sends audit events to the `AUDIT` stream without ever blocking or failing the request that
 * produced them: `record` returns at once, and publishing (with the event id as the JetStream
 * message id, so a retry is not a duplicate) happens behind it, retried while NATS is away.
 */
export class AuditRecorder {
  private readonly queue: AuditEvent[] = [];
  private readonly maxBuffered: number;
  private readonly concurrency: number;
  private draining?: Promise<void>;
  private droppedCount = 0;
  private readonly droppedMetric?: Counter;
  private inFlight = 0;

  constructor(
    private readonly publisher: JetStreamPublisher,
    private readonly options: AuditRecorderOptions,
  ) {
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.concurrency = options.concurrency ?? 32;
    if (options.metrics) this.droppedMetric = droppedCounter(options.metrics);
  }

  /**
   * Queues one event and returns its id. Text the contract cannot store as it is (hostile input
   * in an id, a name, a header) is recorded escaped, truncated or hashed, never dropped: a
   * refused call is recorded above all. Undefined for an event its caller got wrong (an action
   * that is not one, metadata beyond its size), which no rewriting of text can mend.
   */
  record(input: AuditRecord): string | undefined {
    const span = trace.getActiveSpan()?.spanContext();
    const event = {
      id: randomUUID(),
      occurredAt: new Date().toISOString(),
      ...(span && trace.isSpanContextValid(span) ? { traceId: span.traceId } : {}),
      ...input,
    };
    let parsed = AuditEvent.safeParse(event);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code }));
      parsed = AuditEvent.safeParse(storableAuditEvent(event));
      if (!parsed.success) {
        this.options.logger.error(
          { action: auditText(String(input.action), 100), issues: parsed.error.issues },
          'audit event outside its contract, not recorded',
        );
        return undefined;
      }
      this.options.logger.warn(
        { eventId: parsed.data.id, action: parsed.data.action, issues },
        'audit event recorded with values rewritten to fit its contract',
      );
    }
    if (this.buffered >= this.maxBuffered && this.queue.length > 0) {
      const lost = this.queue.shift()!;
      this.droppedCount++;
      this.droppedMetric?.inc();
      this.options.logger.error(
        { eventId: lost.id, action: lost.action },
        'audit buffer full: oldest event dropped',
      );
    }
    this.queue.push(parsed.data);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return parsed.data.id;
  }

  /** Events not yet in the stream, including those being published now. */
  get buffered(): number {
    return this.queue.length + this.inFlight;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** Waits until every queued event is in the stream, or the time is up; for shutdown. */
  async flush(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.draining) {
      if (Date.now() >= deadline) return false;
      await Promise.race([this.draining, sleep(Math.min(50, deadline - Date.now()))]);
    }
    return true;
  }

  private async drain(): Promise<void> {
    let backoffMs = 100;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.concurrency);
      this.inFlight = batch.length;
      const results = await Promise.allSettled(
        batch.map((event) => this.publisher.publish(AuditEvents, event, event.id, event.tenantId)),
      );
      this.inFlight = 0;
      const failed = batch.filter((_, i) => results[i]!.status === 'rejected');
      if (failed.length === 0) {
        backoffMs = 100;
        continue;
      }
      // back to the front, in order, to be tried again once NATS answers
      this.queue.unshift(...failed);
      const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult)
        .reason as Error;
      this.options.logger.warn(
        { err: reason, waiting: this.queue.length },
        'audit events not yet published, retrying',
      );
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 5_000);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The caller as the audit trail records it: who, with which roles, and whom a key speaks for. */
export function auditActorOf(ctx: RequestContext): AuditActor {
  return {
    type: ctx.actor.type,
    id: ctx.actor.id,
    ...(ctx.actor.type === 'api-key' && ctx.actor.ownerId ? { ownerId: ctx.actor.ownerId } : {}),
    roles: ctx.actor.roles,
  };
}
