import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { OpenAPIObject } from '@nestjs/swagger';
import { OPENAPI_DOCUMENT_PATH, generateApiDocument, renderApiDocument } from './openapi.document';

jest.setTimeout(60_000);

const root = join(__dirname, '../../../..');
const committedPath = join(root, OPENAPI_DOCUMENT_PATH);
const binOf = (pkg: string, bin: string) =>
  join(dirname(require.resolve(`${pkg}/package.json`)), bin);
/** Runs a tool in its own Node process: they ship ES modules, which jest here does not load. */
function run(script: string, args: string[], cwd = root): string {
  try {
    return execFileSync(process.execPath, [script, ...args], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${script} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** What a client written against the generated types does; compiles only if the types are right. */
const CLIENT = `
import type { components, paths } from './api';

type Tenant = paths['/v1/tenants/{id}']['get']['responses'][200]['content']['application/json'];
type CreateTenant = NonNullable<
  paths['/v1/tenants']['post']['requestBody']
>['content']['application/json'];
type Problem = components['schemas']['Problem'];
type TenantPath = paths['/v1/tenants/{id}']['get']['parameters']['path'];

export const create: CreateTenant = { slug: 'acme', name: 'Acme', plan: 'enterprise' };
export const where: TenantPath = { id: '4a0c5e0e-1d36-4d5b-9a53-2a2f3b9c7d10' };
export const settings = (tenant: Tenant): Tenant['settings'] => tenant.settings;
export const conflict = (problem: Problem): boolean => problem.code === 'CONFLICT';
export const notFound: paths['/v1/tenants/{id}']['get']['responses'][404]['content']['application/problem+json']['status'] = 404;

// @ts-expect-error not a plan the API knows
export const gold: Tenant['plan'] = 'gold';
// @ts-expect-error the slug is required
export const nameless: CreateTenant = { name: 'Acme' };
// @ts-expect-error login is not a GET
export type LoginByGet = paths['/v1/auth/login']['get']['responses'];
`;

describe('the OpenAPI document', () => {
  let generated: OpenAPIObject;
  let tmp: string;

  beforeAll(async () => {
    generated = await generateApiDocument();
    tmp = mkdtempSync(join(tmpdir(), 'lattice-openapi-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(`is committed as ${OPENAPI_DOCUMENT_PATH} as generated (run \`npm run generate:openapi\`)`, () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(renderApiDocument(generated));
  });

  it('is valid OpenAPI, every reference resolving', () => {
    const validate = `require('@apidevtools/swagger-parser').validate(process.argv[1]).then(
      () => console.log('valid'),
      (error) => { console.log(error.message); process.exitCode = 1; })`;
    expect(run('-e', [validate, OPENAPI_DOCUMENT_PATH]).trim()).toBe('valid');
  });

  it('lints clean under Redocly’s recommended rules, but for the explained exceptions', () => {
    const output = run(binOf('@redocly/cli', 'bin/cli.js'), [
      'lint',
      '--config',
      'redocly.yaml',
      '--format',
      'json',
      OPENAPI_DOCUMENT_PATH,
    ]);
    const report = JSON.parse(output.slice(output.indexOf('{'))) as {
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    expect(
      report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`),
    ).toEqual([]);
  });

  it('gives openapi-typescript the types a client compiles against', () => {
    const documentPath = join(tmp, 'openapi.json');
    writeFileSync(documentPath, renderApiDocument(generated));
    run(
      binOf('openapi-typescript', 'bin/cli.js'),
      [documentPath, '--output', join(tmp, 'api.d.ts')],
      tmp,
    );
    writeFileSync(join(tmp, 'client.ts'), CLIENT);
    // throws with the compiler's errors when the client does not compile
    run(
      binOf('typescript', 'bin/tsc'),
      ['--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', 'client.ts'],
      tmp,
    );
  });

  it('says which routes are public: no credentials asked of them', () => {
    const open: string[] = [];
    for (const [path, operations] of Object.entries(generated.paths)) {
      for (const [method, operation] of Object.entries(
        operations as Record<string, { security?: unknown[] }>,
      )) {
        if (operation.security?.length === 0) open.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(open.sort()).toEqual([
      'GET /.well-known/jwks.json',
      'GET /livez',
      'GET /metrics',
      'GET /readyz',
      'POST /v1/auth/login',
      'POST /v1/auth/logout',
      'POST /v1/auth/refresh',
    ]);
    expect(generated.security).toEqual([{ bearer: [] }]);
  });
});
