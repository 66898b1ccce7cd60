export default async function globalTeardown(): Promise<void> {
  const infra = (globalThis as { __latticeInfra?: { stop(): Promise<void> } }).__latticeInfra;
  await infra?.stop();
}
