/**
 * One open-loop run (./open-loop.ts) in a process of its own: told what to drive by its
 * parent, it answers the result and exits. Started by `openLoopApart`.
 */
import { openLoop, type OpenLoopRun } from './open-loop';

process.once('message', (run: OpenLoopRun) => {
  openLoop(run.url, run.headers, run.rate, run.seconds, run.warmupSeconds).then(
    (result) => process.send!(result, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
