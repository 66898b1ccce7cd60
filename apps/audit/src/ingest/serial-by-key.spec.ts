import { SerialByKey } from './serial-by-key';

/** A task that runs until `finish` is called, recording when it starts. */
function gate(log: string[], name: string) {
  let finish!: (fail?: boolean) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = (fail) => (fail ? reject(new Error(`${name} failed`)) : resolve());
  });
  return {
    task: () => {
      log.push(`start ${name}`);
      return done.then(() => {
        log.push(`end ${name}`);
        return name;
      });
    },
    finish,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(SerialByKey.name, () => {
  it('runs the tasks of one key one at a time, in the order given', async () => {
    const queue = new SerialByKey();
    const log: string[] = [];
    const [a1, a2, a3] = ['a1', 'a2', 'a3'].map((n) => gate(log, n));
    const results = [a1!, a2!, a3!].map((g) => queue.run('a', g.task));
    await settle();
    expect(log).toEqual(['start a1']);
    a2!.finish(); // finished early, still waits its turn
    a1!.finish();
    await settle();
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3']);
    a3!.finish();
    await expect(Promise.all(results)).resolves.toEqual(['a1', 'a2', 'a3']);
  });

  it('runs the tasks of different keys side by side', async () => {
    const queue = new SerialByKey();
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const both = [queue.run('a', a.task), queue.run('b', b.task)];
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    a.finish();
    await expect(Promise.all(both)).resolves.toEqual(['a', 'b']);
  });

  it('passes a failure to its caller and goes on with the next task of the key', async () => {
    const queue = new SerialByKey();
    const log: string[] = [];
    const first = gate(log, 'first');
    const second = gate(log, 'second');
    const failed = queue.run('a', first.task);
    const next = queue.run('a', second.task);
    first.finish(true);
    await expect(failed).rejects.toThrow('first failed');
    second.finish();
    await expect(next).resolves.toBe('second');
    expect(log).toEqual(['start first', 'start second', 'end second']);
  });

  it('forgets a key once its last task has settled', async () => {
    const queue = new SerialByKey();
    await Promise.all([
      queue.run('a', async () => 1),
      queue
        .run('b', async () => {
          throw new Error('no');
        })
        .catch(() => 0),
    ]);
    await settle();
    expect(queue.busy).toBe(0);
  });
});
