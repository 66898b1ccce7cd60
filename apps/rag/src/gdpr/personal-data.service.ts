import { Injectable } from '@nestjs/common';
import { assertMayActOnPersonalData } from '@lattice/authz';
import type { GdprServiceRequest } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { QueryPseudonyms } from '../query/query-pseudonyms';
import { QueryRecordRepository } from '../query/query-record.repository';
import { PersonalDocumentsRepository } from './personal-documents.repository';

/**
 * What the RAG service holds about a person, for subject access (Article 15/20) and erasure
 * (Article 17): the records of the questions they asked (found by their pseudonymous id; the
 * questions themselves were never stored) and the documents they added. Erasure removes the
 * query records and detaches the person from their documents (the documents are the tenant's,
 * and stay), so nothing left names them.
 */
@Injectable()
export class PersonalDataService {
  constructor(
    private readonly scope: TenantScope,
    private readonly records: QueryRecordRepository,
    private readonly pseudonyms: QueryPseudonyms,
    private readonly documents: PersonalDocumentsRepository,
  ) {}

  async export(ctx: RequestContext, request: GdprServiceRequest): Promise<unknown> {
    assertMayActOnPersonalData(ctx, 'manage', request);
    const pseudonym = this.pseudonyms.actor(request.tenantId, request.subjectId);
    return this.scope.run(request.tenantId, async (em) => {
      const queries = await this.records.byActor(em, pseudonym);
      const documents = await this.documents.ownedBy(em, request.subjectId);
      if (queries.length === 0 && documents.length === 0) return null;
      return { queries, documents };
    });
  }

  async erase(ctx: RequestContext, request: GdprServiceRequest): Promise<number> {
    assertMayActOnPersonalData(ctx, 'delete', request);
    const pseudonym = this.pseudonyms.actor(request.tenantId, request.subjectId);
    return this.scope.run(request.tenantId, async (em) => {
      const queries = await this.records.removeByActor(em, pseudonym);
      const documents = await this.documents.disown(em, request.subjectId);
      return queries + documents;
    });
  }
}
