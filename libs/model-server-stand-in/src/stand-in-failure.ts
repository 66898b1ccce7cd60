/**
 * How the stand-in can be told to misbehave, for tests of timeouts, fallbacks and circuit
 * breakers: answer with an error status, wait before answering, or break a stream off.
 */
export type StandInFailure =
  | { kind: 'status'; status: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'cut'; afterChunks: number };

/** How long `slow` without a number waits: longer than any caller's timeout. */
const FOREVER_MS = 3_600_000;

/**
 * Reads `500`, `429`, `400`, `503` (that status), `slow` or `slow:<ms>` (wait, then answer),
 * `cut` or `cut:<chunks>` (stream that many deltas, then drop the connection).
 */
export function parseFailure(text: string): StandInFailure {
  const [kind, arg] = text.trim().split(':', 2) as [string, string | undefined];
  const number = (fallback: number) => {
    if (arg === undefined || arg === '') return fallback;
    const n = Number(arg);
    if (!Number.isInteger(n) || n < 0) throw new Error(`"${text}": ${arg} is not a whole number`);
    return n;
  };
  if (/^[45]\d\d$/.test(kind)) return { kind: 'status', status: Number(kind) };
  if (kind === 'slow') return { kind: 'slow', delayMs: number(FOREVER_MS) };
  if (kind === 'cut') return { kind: 'cut', afterChunks: number(1) };
  throw new Error(`"${text}" is not a failure the stand-in knows (500, 429, slow:<ms>, cut:<n>)`);
}

/** `model-a=500,model-b=slow:2000,*=429`: a failure per model, `*` for every model. */
export function parseFailureMap(text: string): Map<string, StandInFailure> {
  const map = new Map<string, StandInFailure>();
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    if (at <= 0) throw new Error(`"${entry}" is not <model>=<failure>`);
    map.set(entry.slice(0, at).trim(), parseFailure(entry.slice(at + 1)));
  }
  return map;
}
