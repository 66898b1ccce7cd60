import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { nodeFileTrace } from '@vercel/nft';

/** Where a staged service's code starts, relative to the image's working directory. */
export const IMAGE_ENTRY = 'dist/main.js';

export interface StagedApp {
  /** Files of ours (under dist/) the service loads, relative to the repository root. */
  files: string[];
  /** Packages the service's own modules import; every one is a production dependency. */
  packages: string[];
}

/** The apps `npm run build` compiled: each directory of dist/apps with a src/main.js. */
export function builtApps(distDir: string): string[] {
  const appsDir = join(distDir, 'apps');
  if (!existsSync(appsDir)) return [];
  return readdirSync(appsDir)
    .filter((app) => existsSync(join(appsDir, app, 'src', 'main.js')))
    .sort();
}

/** `node_modules/@scope/name/lib/x.js` -> `@scope/name`. */
function packageOf(path: string): string {
  const [, first, second] = path.split(sep);
  return first.startsWith('@') ? `${first}/${second}` : first;
}

/**
 * Copies one service's compiled modules into `outDir` (as `outDir/dist/...`, with their source
 * maps) and writes the image's entry module, which loads the service's main module. The files
 * are those traced from that main module, so the image carries neither tests nor the other
 * services. Fails when `app` names no built app, and when the service imports a package the
 * production install (`npm ci --omit=dev`) leaves out.
 */
export async function stageApp(app: string, distDir: string, outDir: string): Promise<StagedApp> {
  const apps = builtApps(distDir);
  if (!apps.includes(app)) {
    const named = app ? `"${app}" is not an app` : 'APP is not set';
    throw new Error(`${named}: build with --build-arg APP=<one of ${apps.join(', ')}>`);
  }
  const root = dirname(resolve(distDir));
  const main = join(distDir, 'apps', app, 'src', 'main.js');
  const trace = await nodeFileTrace([main], {
    base: root,
    // the production install provides the packages: trace our modules, note what they import
    ignore: (path) => path.startsWith(`node_modules${sep}`),
  });
  const unresolved = [...trace.warnings].filter((w) => w.message.startsWith('Failed to resolve'));
  if (unresolved.length > 0) throw new Error(unresolved.map((w) => w.message).join('\n'));

  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const packages = [...trace.reasons]
    .filter(([path, reason]) => reason.ignored && path.startsWith(`node_modules${sep}`))
    .map(([path]) => packageOf(path));
  const distinct = [...new Set(packages)].sort();
  const missing = distinct.filter((name) => !manifest.dependencies?.[name]);
  if (missing.length > 0) {
    throw new Error(
      `${app} imports ${missing.join(', ')}, which the image leaves out: ` +
        'move them from devDependencies to dependencies in package.json',
    );
  }

  const files = [...trace.fileList].filter((path) => path.startsWith(`dist${sep}`)).sort();
  for (const file of files) {
    for (const path of [file, `${file}.map`]) {
      if (!existsSync(join(root, path))) continue;
      mkdirSync(dirname(join(outDir, path)), { recursive: true });
      copyFileSync(join(root, path), join(outDir, path));
    }
  }
  writeFileSync(
    join(outDir, IMAGE_ENTRY),
    `'use strict';\n// the ${app} service\nrequire('./apps/${app}/src/main.js');\n`,
  );
  return { files, packages: distinct };
}

if (require.main === module) {
  const [app = '', outDir] = process.argv.slice(2);
  if (!outDir) {
    process.stderr.write(
      'usage: node dist/tools/image/src/stage-app.js <app> <output directory>\n',
    );
    process.exit(2);
  }
  stageApp(app, resolve(__dirname, '../../..'), resolve(outDir)).then(
    (staged) =>
      process.stdout.write(
        `${app}: ${staged.files.length} modules; packages ${staged.packages.join(', ')}\n`,
      ),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
