import type { Provider } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import { TenantScope } from '@lattice/database';
import { JetStreamPublisher, UsageOutbox, type UsageOutboxTableName } from '@lattice/messaging';
import { LOGGER } from './tokens';

/**
 * The service's `UsageOutbox` (inject it by that class) over its own table, made by
 * `usageOutboxTableSql` in one of its migrations; the relay runs in the dispatch scope, which
 * that table's policy lets read every tenant's reports.
 */
export function usageOutboxProvider(
  table: UsageOutboxTableName,
  options: { label?: string } = {},
): Provider {
  return {
    provide: UsageOutbox,
    inject: [TenantScope, JetStreamPublisher, LOGGER],
    useFactory: (scope: TenantScope, publisher: JetStreamPublisher, logger: Logger) =>
      new UsageOutbox<EntityManager>({
        table,
        inScope: (work) => scope.runForDispatch(work),
        publisher,
        logger,
        label: options.label,
      }),
  };
}
