/** The inference worker runs the shared queue-worker runner of `libs/worker`. */
export { QueueWorkerRunner as InferenceWorkerRunner } from '@lattice/worker';
