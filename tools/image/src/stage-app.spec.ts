import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IMAGE_ENTRY, builtApps, stageApp } from './stage-app';

jest.setTimeout(30_000);

/** A repository with a build: package.json, node_modules and dist/, from a map of files. */
function repository(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'lattice-stage-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const pkg = (name: string) => ({
  [`node_modules/${name}/package.json`]: JSON.stringify({ name, main: 'index.js' }),
  [`node_modules/${name}/index.js`]: 'module.exports = {};',
});

const manifest = JSON.stringify({
  name: 'demo',
  dependencies: { nats: '^2.0.0', '@scope/tool': '^1.0.0' },
  devDependencies: { jest: '^29.0.0' },
});

describe(stageApp.name, () => {
  const roots: string[] = [];
  const make = (files: Record<string, string>) => {
    const root = repository({
      'package.json': manifest,
      ...pkg('nats'),
      ...pkg('@scope/tool'),
      ...pkg('jest'),
      ...files,
    });
    roots.push(root);
    return root;
  };
  afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  it('copies the modules the main module loads, with their maps, and nothing else', async () => {
    const root = make({
      'dist/apps/api/src/main.js':
        'require("nats"); require("./api.app"); require("../../../libs/config/src");',
      'dist/apps/api/src/main.js.map': '{}',
      'dist/apps/api/src/api.app.js':
        'exports.app = Promise.resolve().then(() => require("@scope/tool"));',
      'dist/apps/api/test/api.test-bed.js': 'require("jest");',
      'dist/libs/config/src/index.js': 'module.exports = require("./config");',
      'dist/libs/config/src/config.js': 'module.exports = {};',
      'dist/libs/testing/src/index.js': 'require("jest");',
      'dist/apps/other/src/main.js': '',
    });
    const out = join(root, 'image');
    const staged = await stageApp('api', join(root, 'dist'), out);

    expect(staged).toEqual({
      files: [
        'dist/apps/api/src/api.app.js',
        'dist/apps/api/src/main.js',
        'dist/libs/config/src/config.js',
        'dist/libs/config/src/index.js',
      ],
      packages: ['@scope/tool', 'nats'],
    });
    expect(existsSync(join(out, 'dist/apps/api/src/main.js.map'))).toBe(true);
    expect(existsSync(join(out, 'dist/apps/api/test'))).toBe(false);
    expect(existsSync(join(out, 'dist/libs/testing'))).toBe(false);
    expect(existsSync(join(out, 'dist/apps/other'))).toBe(false);
    expect(readFileSync(join(out, IMAGE_ENTRY), 'utf8')).toContain(
      "require('./apps/api/src/main.js')",
    );
  });

  it('refuses a service that imports a development dependency, which the image leaves out', async () => {
    const root = make({ 'dist/apps/api/src/main.js': 'require("nats"); require("jest");' });
    await expect(stageApp('api', join(root, 'dist'), join(root, 'image'))).rejects.toThrow(
      'api imports jest, which the image leaves out: move them from devDependencies to dependencies',
    );
    expect(existsSync(join(root, 'image'))).toBe(false);
  });

  it('refuses a service that loads a module the build does not have', async () => {
    const root = make({ 'dist/apps/api/src/main.js': 'require("./gone");' });
    await expect(stageApp('api', join(root, 'dist'), join(root, 'image'))).rejects.toThrow(
      /Failed to resolve.*\.\/gone/,
    );
  });

  it('names the apps there are when APP is unset or names none', async () => {
    const root = make({ 'dist/apps/api/src/main.js': '', 'dist/apps/web/src/main.js': '' });
    expect(builtApps(join(root, 'dist'))).toEqual(['api', 'web']);
    await expect(stageApp('', join(root, 'dist'), join(root, 'image'))).rejects.toThrow(
      'APP is not set: build with --build-arg APP=<one of api, web>',
    );
    await expect(stageApp('ap', join(root, 'dist'), join(root, 'image'))).rejects.toThrow(
      '"ap" is not an app: build with --build-arg APP=<one of api, web>',
    );
  });
});
