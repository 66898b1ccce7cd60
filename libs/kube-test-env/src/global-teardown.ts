export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __latticeKube?: { stop(): Promise<void> } }).__latticeKube?.stop();
}
