// Lints source texts as if they stood at the given paths, with the project's own config, and
// prints what each is reported for. Its own process: ESLint loads its config with import(),
// which jest's module sandbox does not offer. Type-aware rules are off: the files do not exist.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
/** @type {{ filePath: string; code: string }[]} */
const sources = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: [tseslint.configs.disableTypeChecked],
});
const results = [];
for (const { filePath, code } of sources) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push({
    filePath,
    messages: result.messages.map(({ ruleId, message }) => ({ ruleId, message })),
  });
}
process.stdout.write(JSON.stringify(results));
