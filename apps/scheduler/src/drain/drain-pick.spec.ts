import { pickWorkersToDrain, type DrainCandidate } from './drain-pick';

describe(pickWorkersToDrain.name, () => {
  const worker = (workerId: string, heldJobs: number, over: Partial<DrainCandidate> = {}) => ({
    workerId,
    heldJobs,
    draining: false,
    registeredAt: 1_000,
    ...over,
  });

  it('picks the workers holding the least work', () => {
    expect(
      pickWorkersToDrain([worker('a', 3), worker('b', 0), worker('c', 1), worker('d', 5)], 2),
    ).toEqual(['b', 'c']);
  });

  it('prefers, among equals, a worker already draining, then the newest, then the name', () => {
    const candidates = [
      worker('old', 0, { registeredAt: 1 }),
      worker('new', 0, { registeredAt: 9 }),
      worker('pending', 0, { registeredAt: undefined }),
      worker('drained', 0, { draining: true, registeredAt: 1 }),
      worker('twin-b', 0, { registeredAt: 5 }),
      worker('twin-a', 0, { registeredAt: 5 }),
    ];
    expect(pickWorkersToDrain(candidates, 6)).toEqual([
      'drained',
      'pending',
      'new',
      'twin-a',
      'twin-b',
      'old',
    ]);
  });

  it('picks nothing for a count of zero, and at most every candidate', () => {
    expect(pickWorkersToDrain([worker('a', 1)], 0)).toEqual([]);
    expect(pickWorkersToDrain([worker('a', 1), worker('b', 2)], 5)).toEqual(['a', 'b']);
  });

  it('is the same choice whatever order the candidates come in', () => {
    const candidates = Array.from({ length: 12 }, (_, i) =>
      worker(`w${i}`, i % 4, { draining: i % 5 === 0, registeredAt: i % 3 }),
    );
    const expected = pickWorkersToDrain(candidates, 5);
    for (let round = 0; round < 20; round++) {
      const shuffled = [...candidates].sort(() => Math.random() - 0.5);
      expect(pickWorkersToDrain(shuffled, 5)).toEqual(expected);
    }
  });
});
