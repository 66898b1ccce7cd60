import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Contracts from '@lattice/contracts';
import { SERVICE_NAMES, accessOf } from '@lattice/contracts';

const ROOT = join(__dirname, '../..');

/** Every source file of an app, tests left out. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.ts$/.test(entry.name) && !/\.(spec|int-spec|k8s-spec)\.ts$/.test(entry.name)
      ? [path]
      : [];
  });
}

/** The contracts an app names in a call of one shape (`@Handles(X)`, `.request(X`). */
function named(app: string, pattern: RegExp): string[] {
  const found = new Set<string>();
  for (const file of sources(join(ROOT, 'apps', app, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) found.add(match[1]!);
  }
  return [...found].sort();
}

const subjectOf = (name: string): string => {
  const contract = (Contracts as Record<string, unknown>)[name] as { subject?: string } | undefined;
  if (!contract?.subject) throw new Error(`${name} is not a contract of @lattice/contracts`);
  return contract.subject;
};

const apps = readdirSync(join(ROOT, 'apps'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

describe('what each service does on NATS, against what it declares', () => {
  it.each(apps)('%s has an access declaration in libs/contracts/src/access', (app) => {
    expect(SERVICE_NAMES).toContain(app);
  });

  it.each(apps.filter((a) => SERVICE_NAMES.includes(a)))(
    '%s handles, calls, emits and hears only what it declares',
    (app) => {
      const access = accessOf(app);
      const declared = (list: readonly { subject: string }[]) => list.map((c) => c.subject);
      const undeclared = (names: string[], list: readonly { subject: string }[]) =>
        names.filter((n) => !declared(list).includes(subjectOf(n)));
      expect({
        handles: undeclared(named(app, /@Handles\(\s*(\w+)\s*\)/g), access.handles),
        calls: undeclared(named(app, /\.request(?:Many)?\(\s*([A-Z]\w+)\s*,/g), access.calls),
        emits: undeclared(named(app, /events\.publish\(\s*([A-Z]\w+)\s*,/g), access.emits),
        listens: undeclared(named(app, /events\.subscribe\(\s*([A-Z]\w+)\s*,/g), access.listens),
      }).toEqual({ handles: [], calls: [], emits: [], listens: [] });
    },
  );
});
