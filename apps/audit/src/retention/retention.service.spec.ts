import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  TenantsGet,
  type TenantView,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { RpcClient } from '@lattice/messaging';
import { Clock, LOGGER } from '@lattice/service-runtime';
import { ManualClock, createTestBed, provide, strictMock, type StrictMock } from '@lattice/testing';
import { EntityManager } from 'typeorm';
import { ChainService } from '../chain/chain.service';
import { CheckpointRepository } from '../chain/checkpoint.repository';
import { AuditEventRepository } from '../events/audit-event.repository';
import { RETENTION_SETTINGS, RetentionService } from './retention.service';

const NOW = new Date('2026-06-30T00:00:00Z');
const DAY_MS = 86_400_000;
const PLATFORM_DAYS = 400;

describe(RetentionService.name, () => {
  let sut: RetentionService;
  let rpc: StrictMock<RpcClient>;
  let events: StrictMock<AuditEventRepository>;
  let checkpoints: StrictMock<CheckpointRepository>;
  let chain: StrictMock<ChainService>;
  let logger: { info: jest.Mock; error: jest.Mock };
  let em: StrictMock<EntityManager>;

  /** What the tenants service answers for a tenant: its plan keeps audit events this long. */
  const keeps = (days: number) =>
    rpc.request.mockResolvedValue({ quotas: { auditRetentionDays: days } } as TenantView);
  /** The tenant's trail holds events first..last, and `firstKept` is the first not expired. */
  const trail = (first: number, last: number, firstKept: number | null) => {
    events.bounds.mockResolvedValue({ first, last });
    events.firstSeqSince.mockResolvedValue(firstKept);
  };

  beforeEach(() => {
    logger = { info: jest.fn(), error: jest.fn() };
    const bed = createTestBed(RetentionService, [
      provide(Clock, new ManualClock(NOW)),
      provide(RETENTION_SETTINGS, { platformRetentionDays: PLATFORM_DAYS }),
      provide(LOGGER, logger as unknown as Logger),
    ]);
    sut = bed.sut;
    em = strictMock(EntityManager);
    const scope = bed.mocks.get(TenantScope);
    scope.run.mockImplementation((_id, work) => work(em));
    scope.runAsPlatform.mockImplementation((work) => work(em));
    rpc = bed.mocks.get(RpcClient);
    events = bed.mocks.get(AuditEventRepository);
    checkpoints = bed.mocks.get(CheckpointRepository);
    chain = bed.mocks.get(ChainService);
    chain.checkpoint.mockResolvedValue(null);
  });

  it("keeps the platform's own trail for the configured days, asking no one", async () => {
    await expect(sut.retentionDays(PLATFORM_TENANT_ID)).resolves.toBe(PLATFORM_DAYS);
  });

  it("reads a tenant's retention from its plan, as the tenants service tells it", async () => {
    const tenantId = randomUUID();
    keeps(30);

    await expect(sut.retentionDays(tenantId)).resolves.toBe(30);
    expect(rpc.request).toHaveBeenCalledWith(TenantsGet, { id: tenantId }, expect.anything());
  });

  it('cuts at the last expired event, anchored by a retention checkpoint there', async () => {
    const tenantId = randomUUID();
    keeps(30);
    trail(1, 10, 7);
    checkpoints.removeSegment.mockResolvedValue(6);

    await expect(sut.applyTo(tenantId)).resolves.toBe(6);

    expect(events.firstSeqSince).toHaveBeenCalledWith(
      em,
      tenantId,
      new Date(NOW.getTime() - 30 * DAY_MS),
    );
    expect(chain.checkpoint).toHaveBeenCalledWith(tenantId, 6, 'retention');
    expect(checkpoints.removeSegment).toHaveBeenCalledWith(em, tenantId, 6);
  });

  it('removes the whole trail when every event has expired', async () => {
    const tenantId = randomUUID();
    keeps(30);
    trail(1, 10, null);
    checkpoints.removeSegment.mockResolvedValue(10);

    await expect(sut.applyTo(tenantId)).resolves.toBe(10);
    expect(chain.checkpoint).toHaveBeenCalledWith(tenantId, 10, 'retention');
  });

  it('changes nothing when no event has expired', async () => {
    keeps(30);
    trail(5, 10, 5);

    await expect(sut.applyTo(randomUUID())).resolves.toBe(0);
    expect(chain.checkpoint).not.toHaveBeenCalled();
    expect(checkpoints.removeSegment).not.toHaveBeenCalled();
  });

  it('keeps the trail of a tenant the tenants service no longer knows', async () => {
    rpc.request.mockRejectedValue(new DomainError(ErrorCode.NotFound, 'no such tenant'));

    await expect(sut.applyTo(randomUUID())).resolves.toBe(0);
    expect(events.bounds).not.toHaveBeenCalled();
  });

  it('fails, rather than guess, when the tenants service cannot answer', async () => {
    rpc.request.mockRejectedValue(new DomainError(ErrorCode.Unavailable, 'no responders'));

    await expect(sut.applyTo(randomUUID())).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
    });
    expect(checkpoints.removeSegment).not.toHaveBeenCalled();
  });

  it('goes on to the other tenants when one fails, and reports that one', async () => {
    const [failing, fine] = [randomUUID(), randomUUID()];
    events.tenants.mockResolvedValue([failing, fine]);
    rpc.request.mockImplementation(async (_contract, request) => {
      if ((request as { id: string }).id === failing) throw new Error('the tenants service broke');
      return { quotas: { auditRetentionDays: 30 } } as TenantView;
    });
    trail(1, 4, 3);
    checkpoints.removeSegment.mockResolvedValue(2);

    await expect(sut.applyAll()).resolves.toBe(2);
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ tenantId: failing }),
      expect.any(String),
    );
  });
});
