import type { JobProgress } from '@lattice/contracts';
import { ProgressReporter } from './progress-reporter';

/** A send whose answers the test hands out one at a time. */
function scheduler() {
  const sent: number[] = [];
  const answers: (() => void)[] = [];
  const send = (progress: JobProgress) => {
    sent.push(progress.done);
    return new Promise<void>((resolve) => answers.push(resolve));
  };
  const answer = async () => {
    answers.shift()!();
    // let the reporter see the answer and send what waits
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { sent, send, answer };
}

const at = (done: number): JobProgress => ({ done, total: 100 });

describe(ProgressReporter.name, () => {
  afterEach(() => jest.useRealTimers());

  it('keeps one report in flight; of those made meanwhile only the newest follows', async () => {
    const s = scheduler();
    const reporter = new ProgressReporter(s.send, { intervalMs: 0, onError: fail });
    for (let done = 0; done <= 50; done++) reporter.report(at(done));
    expect(s.sent).toEqual([0]);
    await s.answer();
    expect(s.sent).toEqual([0, 50]);
    reporter.report(at(60));
    reporter.report(at(70));
    await s.answer();
    expect(s.sent).toEqual([0, 50, 70]);
    await s.answer();
    expect(s.sent).toEqual([0, 50, 70]);
  });

  it('sends no two reports closer together than the interval', async () => {
    jest.useFakeTimers();
    const s = scheduler();
    const reporter = new ProgressReporter(s.send, { intervalMs: 500, onError: fail });
    reporter.report(at(1));
    await s.answer();
    reporter.report(at(2));
    reporter.report(at(3));
    jest.advanceTimersByTime(499);
    expect(s.sent).toEqual([1]);
    jest.advanceTimersByTime(1);
    expect(s.sent).toEqual([1, 3]);
  });

  it('flush sends what waits at once, after the report in flight, and takes no more', async () => {
    jest.useFakeTimers();
    const s = scheduler();
    const reporter = new ProgressReporter(s.send, { intervalMs: 60_000, onError: fail });
    reporter.report(at(1));
    reporter.report(at(2));
    const flushed = reporter.flush();
    expect(s.sent).toEqual([1]);
    await s.answer();
    expect(s.sent).toEqual([1, 2]);
    await s.answer();
    await flushed;
    reporter.report(at(3));
    expect(s.sent).toEqual([1, 2]);
  });

  it('close drops what waits', async () => {
    const s = scheduler();
    const reporter = new ProgressReporter(s.send, { intervalMs: 0, onError: fail });
    reporter.report(at(1));
    reporter.report(at(2));
    reporter.close();
    await s.answer();
    reporter.report(at(3));
    expect(s.sent).toEqual([1]);
  });

  it('hands a refused report to onError and goes on with the next', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const reporter = new ProgressReporter(
      async () => {
        if (++calls === 1) throw new Error('refused');
      },
      { intervalMs: 0, onError: (e) => errors.push(e) },
    );
    reporter.report(at(1));
    reporter.report(at(2));
    await reporter.flush();
    expect(errors).toEqual([new Error('refused')]);
    expect(calls).toBe(2);
  });
});

function fail(error: unknown): never {
  throw error;
}
