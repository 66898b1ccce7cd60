import {
  NO_ANSWER,
  countStandInTokens,
  groundedAnswer,
  passagesOf,
  questionOf,
  streamPieces,
} from './grounded-answer';

const system = {
  role: 'system',
  content: 'Answer only from the passages. Cite each passage you use by its id.',
};

const user = (content: string) => ({ role: 'user', content });

describe(groundedAnswer.name, () => {
  const messages = [
    system,
    user(
      [
        '<passage id="doc-1#3">Lattice schedules jobs with fair share. Each tenant gets a slice.</passage>',
        '<passage id="doc-2#1">The gateway listens on port 8080. It checks tokens.</passage>',
        '<passage id="doc-3#7">Bananas are yellow.</passage>',
        '<question>Which port does the gateway listen on?</question>',
      ].join('\n'),
    ),
  ];

  it('answers with the sentences that share most words with the question, citing their passage', () => {
    const answer = groundedAnswer(messages, 1);
    expect(answer).toEqual({
      text: 'The gateway listens on port 8080. [doc-2#1]',
      cited: ['doc-2#1'],
    });
  });

  it('gives the same answer for the same messages', () => {
    expect(groundedAnswer(messages)).toEqual(groundedAnswer(structuredClone(messages)));
  });

  it('cites nothing it was not given, and says so when nothing matches', () => {
    const answer = groundedAnswer([
      system,
      user(
        '<passage id="a">Bananas are yellow.</passage>\n<question>What is the capital of France?</question>',
      ),
    ]);
    expect(answer).toEqual({ text: NO_ANSWER, cited: [] });
  });

  it('reads numbered passages, and the question as the user turn less its passages', () => {
    const turns = [
      system,
      user(
        '[1] Invoices are sent monthly.\n[2] Refunds take five days.\n\nHow long do refunds take?',
      ),
    ];
    expect(passagesOf(turns)).toEqual([
      { id: '1', text: 'Invoices are sent monthly.' },
      { id: '2', text: 'Refunds take five days.' },
    ]);
    expect(questionOf(turns)).toBe('How long do refunds take?');
    expect(groundedAnswer(turns, 1).cited).toEqual(['2']);
  });

  it('looks inside a context block that holds passages', () => {
    const turns = [
      user(
        '<context><document id="x">Alpha beta.</document><document id="y">Gamma delta.</document></context>\nWhat is gamma?',
      ),
    ];
    expect(passagesOf(turns).map((p) => p.id)).toEqual(['x', 'y']);
    expect(groundedAnswer(turns).cited).toEqual(['y']);
  });
});

describe(countStandInTokens.name, () => {
  it('counts words and punctuation apart', () => {
    expect(countStandInTokens('Hello, world!')).toBe(4);
    expect(countStandInTokens('')).toBe(0);
  });
});

describe(streamPieces.name, () => {
  it('cuts text into words that join back into the text', () => {
    const text = 'The gateway listens on port 8080. [doc-2#1]';
    expect(streamPieces(text).join('')).toBe(text);
    expect(streamPieces(text)).toHaveLength(7);
  });
});
