import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Plan, QuotaOverrides, TenantStatus } from '@lattice/contracts';

@Entity({ schema: 'tenants', name: 'tenants' })
export class TenantEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  slug!: string;

  @Column('text')
  name!: string;

  @Column('text')
  plan!: Plan;

  @Column('text')
  status!: TenantStatus;

  @Column('jsonb')
  settings!: Record<string, unknown>;

  @Column('jsonb', { name: 'quota_overrides' })
  quotaOverrides!: QuotaOverrides;

  @Column('integer')
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'suspended_at', nullable: true })
  suspendedAt!: Date | null;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;

  @Column('timestamptz', { name: 'purge_after', nullable: true })
  purgeAfter!: Date | null;
}
