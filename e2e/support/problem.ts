import type { E2EResponse } from './platform.harness';

/** An HTTP call an input test makes, and the problem it must be answered with. */
export type ProblemCase = [
  method: string,
  path: string,
  init: RequestInit & { json?: unknown },
  status: number,
  code: string,
];

/** Asserts an RFC 9457 body whose status matches the response's and that names the request. */
export async function expectProblem(response: E2EResponse, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = await response.json();
  expect(body).toMatchObject({
    status,
    code,
    type: expect.stringMatching(/^https:\/\/lattice\.dev\/problems\//),
  });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body.requestId).toBe(response.headers.get('x-request-id'));
  return body;
}

/** Sends each case and checks its answer, naming the case that did not get the right one. */
export async function expectProblems(
  call: (path: string, init: RequestInit & { json?: unknown }) => Promise<E2EResponse>,
  cases: ProblemCase[],
): Promise<void> {
  for (const [method, path, init, status, code] of cases) {
    const response = await call(path, { method, ...init });
    try {
      await expectProblem(response, status, code);
    } catch (error) {
      throw new Error(`${method} ${path}: ${(error as Error).message}`);
    }
  }
}
