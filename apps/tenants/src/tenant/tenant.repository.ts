import { Injectable } from '@nestjs/common';
import { QueryFailedError, type EntityManager } from 'typeorm';
import { DomainError, ErrorCode, type TenantStatus, type Plan } from '@lattice/contracts';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { TenantEntity } from './tenant.entity';

export interface TenantFilters {
  status?: TenantStatus;
  plan?: Plan;
  slug?: string;
  q?: string;
}

/** Rows of `tenants.tenants`, always through the caller's scoped transaction. */
@Injectable()
export class TenantRepository {
  async insert(em: EntityManager, tenant: TenantEntity): Promise<TenantEntity> {
    try {
      await em.insert(TenantEntity, tenant as QueryDeepPartialEntity<TenantEntity>);
      return await em.findOneByOrFail(TenantEntity, { id: tenant.id });
    } catch (error) {
      if (
        error instanceof QueryFailedError &&
        (error.driverError as { code?: string }).code === '23505'
      ) {
        throw new DomainError(ErrorCode.Conflict, `the slug "${tenant.slug}" is taken`, {
          field: 'slug',
        });
      }
      throw error;
    }
  }

  findById(em: EntityManager, id: string): Promise<TenantEntity | null> {
    return em.findOneBy(TenantEntity, { id });
  }

  findBySlug(em: EntityManager, slug: string): Promise<TenantEntity | null> {
    return em.findOneBy(TenantEntity, { slug });
  }

  /** A page in creation order, after the (createdAt, id) position of the previous page. */
  list(
    em: EntityManager,
    filters: TenantFilters,
    after: [string, string] | null,
    limit: number,
  ): Promise<TenantEntity[]> {
    const qb = em.createQueryBuilder(TenantEntity, 't');
    if (filters.status) qb.andWhere('t.status = :status', { status: filters.status });
    else qb.andWhere(`t.status <> 'deleted'`);
    if (filters.plan) qb.andWhere('t.plan = :plan', { plan: filters.plan });
    if (filters.slug) qb.andWhere('t.slug = :slug', { slug: filters.slug });
    if (filters.q) {
      qb.andWhere(`(t.name ILIKE :q ESCAPE '\\' OR t.slug ILIKE :q ESCAPE '\\')`, {
        q: `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
      });
    }
    if (after) {
      qb.andWhere('(t.created_at, t.id) > (:afterTime::timestamptz, :afterId::uuid)', {
        afterTime: after[0],
        afterId: after[1],
      });
    }
    return qb.orderBy('t.created_at', 'ASC').addOrderBy('t.id', 'ASC').limit(limit).getMany();
  }

  save(em: EntityManager, tenant: TenantEntity): Promise<TenantEntity> {
    return em.save(TenantEntity, tenant);
  }

  findDueForPurge(em: EntityManager, now: Date, limit: number): Promise<TenantEntity[]> {
    return em
      .createQueryBuilder(TenantEntity, 't')
      .where(`t.status = 'deleted' AND t.purge_after <= :now`, { now })
      .orderBy('t.purge_after', 'ASC')
      .limit(limit)
      .getMany();
  }

  /**
   * The tenant, locked for this transaction, if it is still deleted and past its retention:
   * between finding it due and purging it, it may have been reactivated or purged elsewhere.
   */
  lockIfDueForPurge(em: EntityManager, id: string, now: Date): Promise<TenantEntity | null> {
    return em
      .createQueryBuilder(TenantEntity, 't')
      .where(`t.id = :id AND t.status = 'deleted' AND t.purge_after <= :now`, { id, now })
      .setLock('pessimistic_write')
      .getOne();
  }

  async remove(em: EntityManager, id: string): Promise<void> {
    await em.delete(TenantEntity, { id });
  }
}
