import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * SIGTERM/SIGINT: stop taking work, let in-flight work finish (Nest's shutdown hooks drain
 * consumers, relays and connections), then exit. A shutdown that outlives the deadline exits
 * non-zero rather than hang the rollout.
 */
export function exitOnSignals(
  app: Pick<INestApplication, 'close'>,
  logger: Logger,
  flush: () => Promise<void>,
  deadlineMs = 25_000,
): void {
  let stopping = false;
  const stop = async (signal: string) => {
    // Ctrl-C reaches a service twice: from the terminal, and from the launcher that stops it
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, deadlineMs).unref();
    try {
      await app.close();
      logger.info({ ms: Date.now() - started }, 'stopped');
      await Promise.race([flush(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
