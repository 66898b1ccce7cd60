import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, REPO_ROOT } from './helm';

jest.setTimeout(60_000);

/** What `npm run generate:chart` writes, generated into a scratch directory. */
function regenerate(dir: string): { readme: string; schema: string } {
  const readme = join(dir, 'README.md');
  const schema = join(dir, 'values.schema.json');
  // the generator fills in the Parameters section of an existing README
  copyFileSync(join(CHART_DIR, 'README.md'), readme);
  const result = spawnSync(
    join(REPO_ROOT, 'node_modules/.bin/readme-generator'),
    ['--values', join(CHART_DIR, 'values.yaml'), '--readme', readme, '--schema', schema],
    { encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`readme-generator failed:\n${result.stderr}${result.stdout}`);
  return { readme: readFileSync(readme, 'utf8'), schema: readFileSync(schema, 'utf8') };
}

describe("the chart's generated documentation", () => {
  let dir: string;
  let generated: { readme: string; schema: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lattice-chart-docs-'));
    generated = regenerate(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('values.schema.json is what values.yaml says (run `npm run generate:chart`)', () => {
    expect(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')).toBe(generated.schema);
  });

  it('README.md lists every parameter as values.yaml documents it (run `npm run generate:chart`)', () => {
    expect(readFileSync(join(CHART_DIR, 'README.md'), 'utf8')).toBe(generated.readme);
  });

  it('types every value, so the schema can refuse a wrong one', () => {
    const schema = JSON.parse(generated.schema) as { properties: Record<string, unknown> };
    const untyped: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (typeof node.type !== 'string') untyped.push(path);
      for (const [key, child] of Object.entries(
        (node.properties ?? {}) as Record<string, Record<string, unknown>>,
      ))
        walk(child, path ? `${path}.${key}` : key);
    };
    walk(schema as unknown as Record<string, unknown>, '');
    expect(untyped).toEqual([]);
  });
});
