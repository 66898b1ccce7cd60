import { DueQueue } from './due-queue';

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
