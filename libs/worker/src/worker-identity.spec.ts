import { workerIdentity } from './worker-identity';

describe(workerIdentity.name, () => {
  it('is the pod name where Kubernetes gives one', () => {
    expect(workerIdentity({ POD_NAME: 'embedding-workers-7d9f-x2x4q' }, 'node-1', 42)).toBe(
      'embedding-workers-7d9f-x2x4q',
    );
  });

  it('is the host and process id elsewhere, so two processes on one host differ', () => {
    expect(workerIdentity({}, 'laptop.local', 4242)).toBe('laptop.local-4242');
    expect(workerIdentity({ POD_NAME: '  ' }, 'box', 1)).toBe('box-1');
  });

  it('keeps to the characters a worker id allows', () => {
    expect(workerIdentity({}, 'my host/with spaces', 7)).toBe('my-host-with-spaces-7');
    expect(workerIdentity({ POD_NAME: '-weird_' }, 'h', 1)).toBe('weird');
    expect(workerIdentity({}, 'h'.repeat(300), 1)).toHaveLength(253);
  });
});
