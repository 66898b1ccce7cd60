import { SharedReads } from './shared-reads';

describe(SharedReads.name, () => {
  let now = 0;
  const reads = () => new SharedReads(200, () => now);
  beforeEach(() => (now = 1_000));

  it('reads a source once for every policy asking within the window', async () => {
    const shared = reads();
    let calls = 0;
    const info = () => Promise.resolve(++calls);
    const first = shared.read('js:JOBS/workers', info);
    now += 150;
    const second = shared.read('js:JOBS/workers', info);
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(calls).toBe(1);
  });

  it('reads each source of its own', async () => {
    const shared = reads();
    const asked: string[] = [];
    const read = (source: string) => shared.read(source, async () => (asked.push(source), source));
    expect(await Promise.all([read('a'), read('b'), read('a')])).toEqual(['a', 'b', 'a']);
    expect(asked).toEqual(['a', 'b']);
  });

  it('reads again once the window has passed, so a policy never sees its own last read', async () => {
    const shared = reads();
    let calls = 0;
    const info = () => Promise.resolve(++calls);
    expect(await shared.read('a', info)).toBe(1);
    now += 201;
    expect(await shared.read('a', info)).toBe(2);
    // an interval of a second (the shortest a policy may have) always reads afresh
    now += 1_000;
    expect(await shared.read('a', info)).toBe(3);
  });

  it('hands a failed read to every reader of the window, and tries again after it', async () => {
    const shared = reads();
    let calls = 0;
    const failing = () => Promise.reject(new Error(`consumer not found (${++calls})`));
    await expect(shared.read('a', failing)).rejects.toThrow('consumer not found (1)');
    await expect(shared.read('a', failing)).rejects.toThrow('consumer not found (1)');
    now += 201;
    await expect(shared.read('a', failing)).rejects.toThrow('consumer not found (2)');
  });

  it('turns a read that throws before its promise into a failed read', async () => {
    const shared = reads();
    await expect(
      shared.read('a', () => {
        throw new Error('bad selector');
      }),
    ).rejects.toThrow('bad selector');
  });

  it('shares a read still under way, however long it takes', async () => {
    const shared = reads();
    let finish!: (n: number) => void;
    let calls = 0;
    const slow = () => (calls++, new Promise<number>((done) => (finish = done)));
    const first = shared.read('a', slow);
    now += 3_000;
    const second = shared.read('a', slow);
    finish(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(calls).toBe(1);
  });

  it('forgets sources nobody asked for within the window', async () => {
    const shared = reads();
    await Promise.all(['a', 'b', 'c'].map((s) => shared.read(s, async () => s)));
    expect(shared.size).toBe(3);
    now += 500;
    await shared.read('d', async () => 'd');
    expect(shared.size).toBe(1);
  });
});
