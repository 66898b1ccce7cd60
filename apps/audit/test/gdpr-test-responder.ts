import type { NatsConnection, Subscription } from 'nats';
import { GdprErase, GdprSubjectAccess, type GdprServiceRequest } from '@lattice/contracts';
import type { SubjectNamespace } from '@lattice/messaging';

/**
 * Stands in for another service that holds personal data (the auth service's users): it
 * answers `gdpr.v1.*` over NATS in the same request/reply format as every Lattice service.
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
    const answer = (subject: string, reply: (req: GdprServiceRequest) => unknown) => {
      this.subscriptions.push(
        this.nc.subscribe(this.ns.subject(subject), {
          queue: this.service,
          callback: (_, msg) => {
            const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
              id: string;
              data: GdprServiceRequest;
            };
            msg.respond(
              JSON.stringify({ id: packet.id, response: reply(packet.data), isDisposed: true }),
            );
          },
        }),
      );
    };
    answer(GdprSubjectAccess.subject, ({ subjectId }) => ({
      service: this.service,
      data: { user: this.users.get(subjectId) ?? null },
    }));
    answer(GdprErase.subject, ({ subjectId }) => ({
      service: this.service,
      erased: this.users.delete(subjectId) ? 1 : 0,
    }));
    return this;
  }

  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }
}
