import type { NatsConnection, Subscription } from 'nats';
import type { RpcContract } from '@lattice/contracts';
import type { SubjectNamespace } from '@lattice/messaging';
import type { z } from 'zod';

/**
 * Answers a request/reply subject in the packet format every Lattice service speaks, for a
 * service the test does not run. The handler returns the reply, or `{ err }` for an error.
 */
export function respond<C extends RpcContract<z.ZodType, z.ZodType>>(
  nc: NatsConnection,
  ns: SubjectNamespace,
  contract: C,
  queue: string,
  handler: (request: z.output<C['request']>) => z.input<C['reply']> | { err: unknown },
): Subscription {
  return nc.subscribe(ns.subject(contract.subject), {
    queue,
    callback: (_, msg) => {
      const packet = JSON.parse(new TextDecoder().decode(msg.data)) as {
        id: string;
        data: unknown;
      };
      const result = handler(contract.request.parse(packet.data) as z.output<C['request']>);
      const body =
        result && typeof result === 'object' && 'err' in result
          ? { id: packet.id, err: result.err, isDisposed: true }
          : { id: packet.id, response: result, isDisposed: true };
      msg.respond(JSON.stringify(body));
    },
  });
}
