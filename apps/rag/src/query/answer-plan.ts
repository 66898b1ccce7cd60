/**
 * What goes to the model for one question, decided without I/O: the question and the retrieved
 * passages with their PII redacted, assembled into the structural prompt within the token
 * budget, with the citations the answer may use and the prompt's token estimate.
 */
import { redactPii } from '../redaction/pii-redaction';
import {
  ContextBudgetError,
  assembleContext,
  type CountTokens,
} from '../answering/context-assembly';
import type { ChatMessage } from '../answering/prompt-builder';

export interface RetrievedPassage {
  chunkId: string;
  documentId: string;
  documentName: string;
  text: string;
  score: number;
}

export interface PlannedCitation {
  id: string;
  documentId: string;
  documentName: string;
  chunkId: string;
  score: number;
}

export interface AnswerPlan {
  messages: ChatMessage[];
  /** The system message and its canary, for the check of the answer. */
  systemPrompt: string;
  canary: string;
  /** The (redacted) passages the model was given, for the check of the answer. */
  passages: string[];
  citations: PlannedCitation[];
  /** Tokens of the whole prompt, by the tokenizer: the estimate before the call. */
  promptTokens: number;
  budgetTokens: number;
  dropped: number;
  truncated: boolean;
  /** How many PII findings were redacted, in the question and in the passages. */
  redacted: { question: number; passages: number };
}

export interface AnswerPlanOptions {
  budgetTokens: number;
  canary: string;
  countTokens: CountTokens;
  truncate: (text: string, maxTokens: number) => string;
}

/** The question does not fit the budget even without passages. */
export class QuestionOverBudget extends Error {
  constructor(
    readonly neededTokens: number,
    readonly budgetTokens: number,
  ) {
    super(`the question needs ${neededTokens} tokens of a ${budgetTokens}-token context budget`);
    this.name = 'QuestionOverBudget';
  }
}

export function planAnswer(
  question: string,
  retrieved: readonly RetrievedPassage[],
  options: AnswerPlanOptions,
): AnswerPlan {
  const redactedQuestion = redactPii(question);
  let passageFindings = 0;
  const names = new Map<string, string>();
  const candidates = retrieved.map((p) => {
    const text = redactPii(p.text);
    const name = redactPii(p.documentName);
    passageFindings += text.findings.length + name.findings.length;
    names.set(p.documentId, name.text);
    return {
      documentId: p.documentId,
      chunkId: p.chunkId,
      score: p.score,
      text: text.text,
      documentName: name.text,
    };
  });
  let assembled;
  try {
    assembled = assembleContext(candidates, {
      budgetTokens: options.budgetTokens,
      countTokens: options.countTokens,
      truncate: options.truncate,
      question: redactedQuestion.text,
      canary: options.canary,
    });
  } catch (error) {
    if (error instanceof ContextBudgetError)
      throw new QuestionOverBudget(error.neededTokens, error.budgetTokens);
    throw error;
  }
  return {
    messages: assembled.messages,
    systemPrompt: assembled.messages.find((m) => m.role === 'system')?.content ?? '',
    canary: options.canary,
    passages: assembled.passages.map((p) => p.text),
    citations: assembled.citations.map((c) => ({
      id: c.id,
      documentId: c.documentId,
      documentName: names.get(c.documentId) ?? '',
      chunkId: c.chunkId,
      score: c.score,
    })),
    promptTokens: assembled.tokens,
    budgetTokens: options.budgetTokens,
    dropped: assembled.dropped.length,
    truncated: assembled.truncated,
    redacted: { question: redactedQuestion.findings.length, passages: passageFindings },
  };
}
