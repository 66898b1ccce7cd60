import { Inject, Injectable, Optional } from '@nestjs/common';
import { PLATFORM_TENANT_ID } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { ManualClock } from './helpers';
import {
  createTestBed,
  provide,
  scopedTransactions,
  strictMock,
  takeUnexpectedCalls,
} from './test-bed';

class Shelf {
  async count(_kind: string): Promise<number> {
    return 0;
  }
  async put(_kind: string): Promise<void> {}
}

class AuditedShelf extends Shelf {
  async audit(): Promise<void> {}
}

const LIMITS = Symbol('LIMITS');
const NOTIFIER = Symbol('NOTIFIER');
interface Limits {
  max: number;
}

@Injectable()
class StockService {
  constructor(
    private readonly shelf: AuditedShelf,
    private readonly clock: Clock,
    @Inject(LIMITS) private readonly limits: Limits,
    @Optional() @Inject(NOTIFIER) private readonly notifier?: { notify(s: string): void },
  ) {}

  async add(kind: string): Promise<{ at: Date }> {
    if ((await this.shelf.count(kind)) >= this.limits.max) throw new Error(`${kind} is full`);
    await this.shelf.put(kind);
    this.notifier?.notify(kind);
    return { at: this.clock.now() };
  }

  /** Swallows the failure of an audit it does not wait for. */
  async addQuietly(kind: string): Promise<void> {
    try {
      await this.shelf.audit();
    } catch {
      // an audit is best effort
    }
    await this.shelf.put(kind);
  }
}

@Injectable()
class NeedsSettings {
  constructor(@Inject(LIMITS) readonly limits: Limits) {}
}

describe(createTestBed.name, () => {
  it('builds the service from its constructor, with a mock for each class it depends on', async () => {
    const { sut, mocks } = createTestBed(StockService, [provide(LIMITS, { max: 2 })]);
    mocks.get(AuditedShelf).count.mockResolvedValue(1);
    mocks.get(AuditedShelf).put.mockResolvedValue();
    mocks.get(Clock).now.mockReturnValue(new Date('2026-01-02T03:04:05Z'));

    await expect(sut.add('bolts')).resolves.toEqual({ at: new Date('2026-01-02T03:04:05Z') });
    expect(mocks.get(AuditedShelf).put).toHaveBeenCalledWith('bolts');
  });

  it('uses a real object where one is given instead of a mock', async () => {
    const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
    const { sut, mocks } = createTestBed(StockService, [
      provide(Clock, clock),
      provide(LIMITS, { max: 1 }),
    ]);
    mocks.get(AuditedShelf).count.mockResolvedValue(0);
    mocks.get(AuditedShelf).put.mockResolvedValue();
    clock.advance(60_000);

    await expect(sut.add('nuts')).resolves.toEqual({ at: new Date('2026-05-01T00:01:00Z') });
    expect(() => mocks.get(Clock)).toThrow('Clock was given to the test bed as a real object');
  });

  it('gives the behaviour of the service under test, not of the mock, to the assertions', async () => {
    const { sut, mocks } = createTestBed(StockService, [provide(LIMITS, { max: 3 })]);
    mocks.get(AuditedShelf).count.mockResolvedValue(3);

    await expect(sut.add('bolts')).rejects.toThrow('bolts is full');
    expect(mocks.get(AuditedShelf).put).not.toHaveBeenCalled();
  });

  it('fails a call to a method that has no behaviour, naming the class and the method', async () => {
    const { sut, mocks } = createTestBed(StockService, [provide(LIMITS, { max: 3 })]);
    mocks.get(AuditedShelf).count.mockResolvedValue(0);

    await expect(sut.add('bolts')).rejects.toThrow(
      'AuditedShelf.put was called without a behaviour',
    );
    expect(takeUnexpectedCalls()).toEqual([
      expect.stringContaining('AuditedShelf.put was called without a behaviour'),
    ]);
  });

  it('records a call without a behaviour that the service swallowed, so the test still fails', async () => {
    const { sut, mocks } = createTestBed(StockService, [provide(LIMITS, { max: 3 })]);
    mocks.get(AuditedShelf).put.mockResolvedValue();

    await expect(sut.addQuietly('bolts')).resolves.toBeUndefined();
    // the hook after each test throws these; taken here so that this test may pass
    expect(takeUnexpectedCalls()).toEqual([
      expect.stringContaining('AuditedShelf.audit was called without a behaviour'),
    ]);
  });

  it('mocks methods inherited from a base class', () => {
    const shelf = strictMock(AuditedShelf);
    expect(Object.keys(shelf).sort()).toEqual(['audit', 'count', 'put']);
  });

  it('mocks abstract methods, which exist only in the type', () => {
    const clock = strictMock(Clock);
    expect(() => clock.now()).toThrow('Clock.now was called without a behaviour');
    takeUnexpectedCalls();
    clock.now.mockReturnValue(new Date(0));
    expect(clock.now()).toEqual(new Date(0));
  });

  it('does not answer the probes for a promise, so a mock can be awaited or resolved', async () => {
    const shelf = strictMock(Shelf);
    await expect(Promise.resolve(shelf)).resolves.toBe(shelf);
  });

  it('refuses a dependency given by a token it cannot mock, saying how to give it', () => {
    expect(() => createTestBed(NeedsSettings)).toThrow(
      'NeedsSettings needs LIMITS (constructor parameter 1), which is not a class the test bed can mock: give it with provide(LIMITS, value)',
    );
  });

  it('leaves an optional dependency out when none is given', async () => {
    const { sut, mocks } = createTestBed(StockService, [
      provide(LIMITS, { max: 1 }),
      provide(Clock, new ManualClock(new Date(0))),
    ]);
    mocks.get(AuditedShelf).count.mockResolvedValue(0);
    mocks.get(AuditedShelf).put.mockResolvedValue();
    await expect(sut.add('nuts')).resolves.toEqual({ at: new Date(0) });
  });

  it('uses an optional dependency when one is given', async () => {
    const notify = jest.fn();
    const { sut, mocks } = createTestBed(StockService, [
      provide(LIMITS, { max: 1 }),
      provide(Clock, new ManualClock(new Date(0))),
      provide(NOTIFIER, { notify }),
    ]);
    mocks.get(AuditedShelf).count.mockResolvedValue(0);
    mocks.get(AuditedShelf).put.mockResolvedValue();
    await sut.add('nuts');
    expect(notify).toHaveBeenCalledWith('nuts');
  });

  it('refuses an override the service does not depend on', () => {
    expect(() =>
      createTestBed(NeedsSettings, [provide(LIMITS, { max: 1 }), provide(Shelf, new Shelf())]),
    ).toThrow('NeedsSettings does not depend on Shelf; remove the override');
  });

  it('refuses to hand out a mock of a class the service does not depend on', () => {
    const { mocks } = createTestBed(NeedsSettings, [provide(LIMITS, { max: 1 })]);
    expect(() => mocks.get(Shelf)).toThrow('NeedsSettings does not depend on Shelf');
  });
});

@Injectable()
class Ledger {
  constructor(private readonly scope: TenantScope) {}

  count(tenantId: string): Promise<number> {
    return this.scope.run(tenantId, (em) => em.count('entry'));
  }

  countAll(): Promise<number> {
    return this.scope.runAsPlatform((em) => em.count('entry'));
  }
}

describe(scopedTransactions.name, () => {
  it('runs each unit of work at once with the one mock transaction, noting whose scope', async () => {
    const { scope, em, tenants } = scopedTransactions();
    const { sut } = createTestBed(Ledger, [provide(TenantScope, scope)]);
    em.count.mockResolvedValueOnce(2).mockResolvedValueOnce(5);

    await expect(sut.count('acme')).resolves.toBe(2);
    await expect(sut.countAll()).resolves.toBe(5);

    expect(em.count).toHaveBeenCalledTimes(2);
    expect(em.count).toHaveBeenCalledWith('entry');
    expect(tenants).toEqual(['acme', PLATFORM_TENANT_ID]);
    expect(scope.tenants).toBe(tenants);
  });

  it('fails a unit of work that uses the transaction without a behaviour', async () => {
    const { scope } = scopedTransactions();

    await expect(scope.run('acme', (em: EntityManager) => em.count('entry'))).rejects.toThrow(
      'EntityManager.count was called without a behaviour',
    );
    takeUnexpectedCalls();
  });

  it('gives each call its own transaction and record', () => {
    const first = scopedTransactions();
    const second = scopedTransactions();

    expect(second.em).not.toBe(first.em);
    expect(second.tenants).not.toBe(first.tenants);
  });
});
