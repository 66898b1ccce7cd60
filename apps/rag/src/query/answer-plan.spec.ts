import { countTokens, truncateToTokens } from '../tokens/tokenizer';
import { QuestionOverBudget, planAnswer, type RetrievedPassage } from './answer-plan';

const options = (budgetTokens = 4_000) => ({
  budgetTokens,
  canary: 'canary-0123456789',
  countTokens,
  truncate: truncateToTokens,
});

const passage = (n: number, text: string, documentName = `doc-${n}.md`): RetrievedPassage => ({
  chunkId: `00000000-0000-4000-8000-00000000000${n}`,
  documentId: `10000000-0000-4000-8000-00000000000${n}`,
  documentName,
  text,
  score: 1 / (60 + n),
});

describe(planAnswer.name, () => {
  it('sends the model neither the PII of the question nor that of the passages', () => {
    const plan = planAnswer(
      'Mail me at bob@example.org: which port?',
      [passage(1, 'Ask jane.doe@example.com, card 4111 1111 1111 1111. Port 8080.')],
      options(),
    );
    const sent = plan.messages.map((m) => m.content).join('\n');
    expect(sent).not.toContain('bob@example.org');
    expect(sent).not.toContain('jane.doe@example.com');
    expect(sent).not.toContain('4111 1111 1111 1111');
    expect(sent).toContain('Port 8080');
    expect(plan.redacted).toEqual({ question: 1, passages: 2 });
  });

  it('cites the passages it sent, by id, with their documents and scores', () => {
    const plan = planAnswer(
      'Which port?',
      [passage(1, 'Port 8080.'), passage(2, 'Port 9090.')],
      options(),
    );
    expect(plan.citations).toEqual([
      expect.objectContaining({
        id: '1',
        documentName: 'doc-1.md',
        documentId: passage(1, '').documentId,
      }),
      expect.objectContaining({ id: '2', documentName: 'doc-2.md' }),
    ]);
    expect(plan.messages[0]!.content).toContain(plan.canary);
  });

  it('keeps the whole prompt within the budget, counted by the tokenizer, dropping what does not fit', () => {
    const long = 'the gateway port stays 8080 in every region. '.repeat(40);
    const plan = planAnswer(
      'Which port?',
      [1, 2, 3, 4].map((n) => passage(n, long)),
      options(600),
    );
    const counted = plan.messages.reduce((sum, m) => sum + countTokens(m.content), 0);
    expect(plan.promptTokens).toBe(counted);
    expect(counted).toBeLessThanOrEqual(600);
    expect(plan.dropped).toBeGreaterThan(0);
  });

  it('refuses a question that does not fit the budget even alone', () => {
    expect(() => planAnswer('word '.repeat(800), [], options(300))).toThrow(QuestionOverBudget);
  });
});
