import { DueQueue, PHASE_STEP_MS, nextDue, phaseOf } from './due-queue';

describe(DueQueue.name, () => {
  it('hands out what is due, earliest first, and keeps the rest', () => {
    const queue = new DueQueue();
    queue.schedule('ml/b', 2_000);
    queue.schedule('ml/a', 1_000);
    queue.schedule('ml/c', 3_000);
    expect(queue.next()).toBe(1_000);
    expect(queue.takeDue(2_500)).toEqual([
      { key: 'ml/a', dueAt: 1_000 },
      { key: 'ml/b', dueAt: 2_000 },
    ]);
    expect(queue.takeDue(2_500)).toEqual([]);
    expect(queue.next()).toBe(3_000);
    expect(queue.size).toBe(1);
  });

  it('keeps one time per policy: scheduling again replaces it', () => {
    const queue = new DueQueue();
    queue.schedule('ml/a', 5_000);
    queue.schedule('ml/a', 1_000);
    expect(queue.takeDue(10_000)).toEqual([{ key: 'ml/a', dueAt: 1_000 }]);
    queue.schedule('ml/b', 1_000);
    queue.schedule('ml/b', 9_000);
    expect(queue.takeDue(5_000)).toEqual([]);
    expect(queue.dueAt('ml/b')).toBe(9_000);
    expect(queue.next()).toBe(9_000);
  });

  it('forgets a removed policy', () => {
    const queue = new DueQueue();
    queue.schedule('ml/a', 1_000);
    queue.schedule('ml/b', 2_000);
    queue.remove('ml/a');
    expect(queue.has('ml/a')).toBe(false);
    expect(queue.next()).toBe(2_000);
    expect(queue.takeDue(5_000)).toEqual([{ key: 'ml/b', dueAt: 2_000 }]);
    expect(queue.next()).toBeUndefined();
  });

  it('stays as large as the policies it holds however often they are rescheduled', () => {
    const queue = new DueQueue();
    for (let round = 0; round < 1_000; round++) {
      for (let p = 0; p < 10; p++) queue.schedule(`ml/p${p}`, round * 1_000 + p);
    }
    expect(queue.size).toBe(10);
    const due = queue.takeDue(Number.MAX_SAFE_INTEGER);
    expect(due.map((d) => d.dueAt)).toEqual(Array.from({ length: 10 }, (_, p) => 999_000 + p));
  });
});

describe(nextDue.name, () => {
  it('keeps a policy on its phase exactly one interval apart', () => {
    expect(nextDue(10_250, 1_000, 250)).toBe(11_250);
    expect(nextDue(11_250, 1_000, 250)).toBe(12_250);
    expect(nextDue(30_000, 15_000, 0)).toBe(45_000);
  });

  it('brings a policy reconciled off its phase back to it, at least half an interval later', () => {
    // created at 10 000, phase 250: due again at 11 250, not at 10 250
    expect(nextDue(10_000, 1_000, 250)).toBe(11_250);
    expect(nextDue(10_700, 1_000, 250)).toBe(11_250);
    // 11 250 would be sooner than half an interval: the one after
    expect(nextDue(10_760, 1_000, 250)).toBe(12_250);
    expect(nextDue(10_900, 1_000, 250)).toBe(12_250);
  });
});

describe(phaseOf.name, () => {
  it('spreads policies over their interval', () => {
    const phases = Array.from({ length: 1_000 }, (_, i) => phaseOf(`ns/w${i}`, 1_000));
    expect(phases.every((p) => p >= 0 && p < 1_000 && p % PHASE_STEP_MS === 0)).toBe(true);
    // every tenth of the second holds some, none holds most
    const tenths = Array.from(
      { length: 10 },
      (_, t) => phases.filter((p) => Math.floor(p / 100) === t).length,
    );
    expect(Math.min(...tenths)).toBeGreaterThan(50);
    expect(Math.max(...tenths)).toBeLessThan(150);
    expect(phaseOf('ns/w1', 1_000)).toBe(phaseOf('ns/w1', 1_000));
    // a 15 s interval has 300 steps to spread over
    expect(new Set(phases.map((_, i) => phaseOf(`ns/w${i}`, 15_000))).size).toBeGreaterThan(250);
  });
});
