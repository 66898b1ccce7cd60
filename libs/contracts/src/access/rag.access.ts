import { AuditEvents, AuditStream } from '../audit/audit-event.schema';
import * as Rag from '../rag/rag.subjects';
import { serviceAccess, rpcContractsOf } from './service-access';

/** Collections, documents and retrieval: answers `rag.v1.*`, records its changes in AUDIT. */
export const ragAccess = serviceAccess({
  service: 'rag',
  handles: [...rpcContractsOf(Rag)],
  calls: [],
  streams: [AuditStream],
  publishes: [AuditEvents],
});
