import {
  INFERENCE_CHAT_JOB_TYPE,
  INFERENCE_INTERACTIVE_QUEUE,
  INFERENCE_QUEUES,
  InferenceJobPayload,
  InferenceStreamChunk,
  inferenceStreamSubject,
  interactiveInferenceJob,
} from './inference.schema';
import { CreateQueueRequest, SubmitJobRequest } from '../scheduler/job.schema';

const payload = {
  messages: [{ role: 'user' as const, content: 'What is Lattice?' }],
  models: ['llama-3-8b-instruct', 'stand-in-small'],
  maxTokens: 256,
};

describe('inference contracts', () => {
  it('takes a chat completion with a stream subject below inference.v1.stream', () => {
    const subject = inferenceStreamSubject('4f6c1f5e-0b7e-4c39-9d58-5b7e2a1f0c11');
    expect(subject).toBe('inference.v1.stream.4f6c1f5e-0b7e-4c39-9d58-5b7e2a1f0c11');
    expect(InferenceJobPayload.parse({ ...payload, stream: { subject } }).stream).toEqual({
      subject,
    });
  });

  it('refuses a stream subject elsewhere or with wildcards, an empty chain, an unknown role', () => {
    for (const subject of [
      'audit.v1.events',
      'inference.v1.stream.>',
      'inference.v1.stream.*',
      'inference.v1.stream',
    ])
      expect(InferenceJobPayload.safeParse({ ...payload, stream: { subject } }).success).toBe(
        false,
      );
    expect(InferenceJobPayload.safeParse({ ...payload, models: [] }).success).toBe(false);
    expect(
      InferenceJobPayload.safeParse({ ...payload, messages: [{ role: 'tool', content: 'x' }] })
        .success,
    ).toBe(false);
    expect(() => inferenceStreamSubject('a.>')).toThrow();
  });

  it('tells a delta, the end and an error apart, and nothing else', () => {
    expect(InferenceStreamChunk.parse({ seq: 0, delta: 'Hi' })).toEqual({ seq: 0, delta: 'Hi' });
    const usage = { promptTokens: 3, completionTokens: 1, totalTokens: 4 };
    expect(
      InferenceStreamChunk.safeParse({
        seq: 1,
        done: true,
        model: 'm',
        usage,
        finishReason: 'stop',
      }).success,
    ).toBe(true);
    expect(InferenceStreamChunk.safeParse({ seq: 1, error: 'the model failed' }).success).toBe(
      true,
    );
    expect(InferenceStreamChunk.safeParse({ seq: 1, delta: 'a', error: 'b' }).success).toBe(false);
  });

  it('submits an interactive chat completion on the interactive queue, once', () => {
    const request = SubmitJobRequest.parse(interactiveInferenceJob(payload));
    expect(request).toMatchObject({
      queue: INFERENCE_INTERACTIVE_QUEUE,
      type: INFERENCE_CHAT_JOB_TYPE,
      priority: 'interactive',
      maxAttempts: 1,
    });
  });

  it('declares queues the scheduler accepts', () => {
    for (const queue of INFERENCE_QUEUES) expect(CreateQueueRequest.parse(queue)).toEqual(queue);
  });
});
