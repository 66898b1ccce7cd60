/**
 * The gateway with its credential check taken out for calls that send no credential, for
 * `bench:auth` only: the baseline of "the same route, unauthenticated", in the same process as
 * the routes with a credential, which are checked as the real gateway checks them. A call
 * without an `Authorization` header is taken to come from the principal in BENCH_PRINCIPAL (a
 * request context as the gateway would derive it from a token); the permission check, the
 * tenant's standing and rate limit, and the handler all run as in the real gateway. It lives
 * under bench/ and nothing but the bench starts it.
 */
import 'reflect-metadata';
import type { RequestContext } from '@lattice/request-context';
import { startTelemetry } from '@lattice/telemetry';
// the one place outside the gateway that reaches into it: the baseline is that very gateway
import { AuthenticationGuard } from '../../apps/gateway/src/auth/authentication.guard';

const principal = JSON.parse(process.env.BENCH_PRINCIPAL ?? 'null') as Omit<
  RequestContext,
  'requestId'
> | null;
if (!principal) {
  console.error('credential-free gateway: BENCH_PRINCIPAL is not set');
  process.exit(78);
}

startTelemetry('gateway', { incomingHttp: false });
type Authenticate = (
  this: AuthenticationGuard,
  request: { id: string; headers: { authorization?: string } },
  context: unknown,
) => Promise<RequestContext>;
const checked = (AuthenticationGuard.prototype as unknown as { authenticate: Authenticate })
  .authenticate;
Object.defineProperty(AuthenticationGuard.prototype, 'authenticate', {
  value: function (this: AuthenticationGuard, request, context) {
    return request.headers.authorization === undefined
      ? Promise.resolve({ ...principal, requestId: request.id })
      : checked.call(this, request, context);
  } satisfies Authenticate,
});
void import('../../apps/gateway/src/gateway.app').then(({ gatewayService }) =>
  gatewayService.run(),
);
