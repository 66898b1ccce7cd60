import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { parse, parseDocument } from 'yaml';

const ROOT = join(__dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** skaffold's own schema for the apiVersion skaffold.yaml declares (see ../schemas/README.md). */
const SCHEMA_FILE = 'tools/image/schemas/skaffold-v4beta14.json';

interface Artifact {
  image: string;
  context?: string;
  docker?: { dockerfile?: string; buildArgs?: Record<string, string> };
}
interface Release {
  name: string;
  chartPath: string;
  setValueTemplates: Record<string, string>;
  setValues?: Record<string, unknown>;
}
interface Patch {
  op: string;
  path: string;
  value?: unknown;
}
interface SkaffoldConfig {
  apiVersion: string;
  build: { artifacts: Artifact[]; local?: { push?: boolean } };
  deploy: { helm: { releases: Release[] } };
  profiles: { name: string; activation?: { kubeContext?: string }[]; patches?: Patch[] }[];
}

const CONFIG = parse(read('skaffold.yaml')) as SkaffoldConfig;
const APPS = readdirSync(join(ROOT, 'apps')).filter((d) =>
  statSync(join(ROOT, 'apps', d)).isDirectory(),
);
/** The chart's key for an app's values: apps/gpu-nodes -> gpuNodes. */
const valuesKey = (app: string) => app.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
/** skaffold's template name for an image: lattice/gpu-nodes -> lattice_gpu_nodes. */
const templateName = (image: string) => image.replace(/[/\-.:]/g, '_');

function validator() {
  // draft-07 with skaffold's editor hints (x-intellij-*, preferredOrder) as annotations
  const ajv = new Ajv({ allErrors: true, strict: true, allowMatchingProperties: true });
  ajv.addVocabulary([
    'x-intellij-html-description',
    'x-intellij-enum-descriptions',
    'preferredOrder',
    'enumDescriptions',
  ]);
  return ajv.compile(JSON.parse(read(SCHEMA_FILE)) as object);
}
const explain = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);

describe('skaffold.yaml', () => {
  const validate = validator();

  it('declares the apiVersion whose schema is kept in the repository', () => {
    expect(CONFIG.apiVersion).toBe('skaffold/v4beta14');
    expect(parseDocument(read('skaffold.yaml')).errors).toEqual([]);
  });

  it("is valid against skaffold's schema", () => {
    const valid = validate(CONFIG);
    expect(explain(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is checked for real: a misspelt field or a wrong type is refused', () => {
    const misspelt = structuredClone(CONFIG) as unknown as Record<string, unknown>;
    (misspelt.build as Record<string, unknown>).artefacts = [];
    expect(validate(misspelt)).toBe(false);
    expect(explain(validate.errors).join('\n')).toContain('artefacts');

    const wrongType = structuredClone(CONFIG);
    wrongType.build.artifacts[0].docker!.buildArgs = ['APP=gateway'] as never;
    expect(validate(wrongType)).toBe(false);
    expect(explain(validate.errors).join('\n')).toContain('/build/artifacts/0/docker/buildArgs');
  });

  it('builds every app in apps/ from the one Dockerfile, naming it in APP', () => {
    const byImage = new Map(CONFIG.build.artifacts.map((a) => [a.image, a]));
    for (const app of APPS) {
      expect({ app, artifact: byImage.get(`lattice/${app}`) }).toEqual({
        app,
        artifact: {
          image: `lattice/${app}`,
          context: '.',
          docker: { dockerfile: 'Dockerfile', buildArgs: { APP: app } },
        },
      });
    }
    for (const artifact of CONFIG.build.artifacts) {
      expect(artifact.docker?.buildArgs?.APP).toBe(artifact.image.replace(/^lattice\//, ''));
    }
  });

  it("deploys the chart with each built image as its service's repository and tag", () => {
    const [release] = CONFIG.deploy.helm.releases;
    expect(release.chartPath).toBe('charts/lattice');
    const expected: Record<string, string> = {};
    for (const { image } of CONFIG.build.artifacts) {
      const key = valuesKey(image.replace(/^lattice\//, ''));
      expected[`${key}.image.repository`] = `{{.IMAGE_REPO_${templateName(image)}}}`;
      expected[`${key}.image.tag`] = `{{.IMAGE_TAG_${templateName(image)}}}`;
    }
    expect(release.setValueTemplates).toEqual(expected);
  });

  const chartValues = join(ROOT, 'charts/lattice/values.yaml');
  (existsSync(chartValues) ? it : it.skip)(
    "sets only values the chart has: each service's image, the bundled PostgreSQL and NATS",
    () => {
      const values = parse(readFileSync(chartValues, 'utf8')) as Record<string, unknown>;
      const has = (path: string) =>
        path
          .split('.')
          .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], values) !==
        undefined;
      const local = CONFIG.profiles.find((p) => p.name === 'local')!;
      const setValues = local.patches!.find((p) => p.path.endsWith('/setValues'))!.value as object;
      const paths = [
        ...Object.keys(CONFIG.deploy.helm.releases[0].setValueTemplates),
        ...Object.keys(setValues),
      ];
      expect(paths.filter((path) => !has(path))).toEqual([]);
    },
  );

  it('has a profile for a local cluster: built in place, not pushed, with the bundled PostgreSQL and NATS', () => {
    const local = CONFIG.profiles.find((p) => p.name === 'local');
    expect(local?.activation?.map((a) => a.kubeContext)).toEqual(['kind-.*', 'minikube']);
    expect(local?.patches).toEqual([
      { op: 'add', path: '/build/local/push', value: false },
      {
        op: 'add',
        path: '/deploy/helm/releases/0/setValues',
        value: expect.objectContaining({
          'postgresql.bundled.enabled': true,
          'nats.bundled.enabled': true,
        }),
      },
    ]);
  });
});
