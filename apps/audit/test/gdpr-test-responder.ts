import type { NatsConnection, Subscription } from 'nats';
import { GdprErase, GdprSubjectAccess } from '@lattice/contracts';
import type { SubjectNamespace } from '@lattice/messaging';
import { respond } from '@lattice/testing';

/**
 * Stands in for another service that holds personal data (the auth service's users): it
 * answers `gdpr.v1.*` over NATS as every Lattice service does.
 */
export class GdprTestResponder {
  readonly users = new Map<string, { email: string; name: string }>();
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly ns: SubjectNamespace,
    readonly service = 'auth',
  ) {}

  start(): this {
    this.subscriptions.push(
      respond(this.nc, this.ns, GdprSubjectAccess, this.service, ({ subjectId }) => ({
        service: this.service,
        data: { user: this.users.get(subjectId) ?? null },
      })),
      respond(this.nc, this.ns, GdprErase, this.service, ({ subjectId }) => ({
        service: this.service,
        erased: this.users.delete(subjectId) ? 1 : 0,
      })),
    );
    return this;
  }

  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }
}
