import { RestartPolicy } from './restart-policy';

const policy = () =>
  new RestartPolicy({
    initialDelayMs: 1_000,
    maxDelayMs: 8_000,
    stableAfterMs: 30_000,
    maxCrashes: 5,
    windowMs: 120_000,
  });

describe(RestartPolicy.name, () => {
  it('doubles the wait after each crash in a row, up to the most', () => {
    const sut = policy();
    // crashes far enough apart to stay under the crash-loop limit, each after a short run
    const delays = [0, 40, 80, 120, 160, 200].map(
      (s) => sut.crashed(s * 1_000, 5_000) as { delayMs: number },
    );
    expect(delays.map((d) => d.delayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('starts over at the first wait once the service has stayed up a while', () => {
    const sut = policy();
    sut.crashed(0, 1_000);
    expect(sut.crashed(2_000, 1_000)).toMatchObject({ restart: true, delayMs: 2_000 });
    expect(sut.crashed(100_000, 60_000)).toMatchObject({ restart: true, delayMs: 1_000 });
  });

  it('gives up at the fifth crash within the window', () => {
    const sut = policy();
    const decisions = [0, 2, 5, 10, 19].map((s) => sut.crashed(s * 1_000, 500));
    expect(decisions.map((d) => d.restart)).toEqual([true, true, true, true, false]);
    expect(decisions[4]).toEqual({ restart: false, crashes: 5 });
  });

  it('forgets crashes older than the window', () => {
    const sut = policy();
    for (const s of [0, 2, 5, 10]) sut.crashed(s * 1_000, 500);
    expect(sut.crashed(121_000, 500)).toMatchObject({ restart: true, crashes: 4 });
  });
});
