import type { JobRegistry } from '../shared/queue/jobs';
import type { CheckpointService } from './checkpoints.service';

/** Every AUDIT_CHECKPOINT_MINUTES: a signed checkpoint of the audit chain if it grew. Payload: the slot it runs for. */
export const CHECKPOINT_JOB = { queue: 'monitoring', name: 'monitoring.checkpoint' } as const;

export function registerCheckpointJobs(registry: JobRegistry, parts: () => { checkpoints: CheckpointService }): void {
  registry.register<{ at: string }>({
    ...CHECKPOINT_JOB,
    attempts: 3,
    backoffMs: 5000,
    // idempotent: a second delivery finds the chain no longer grown and only makes sure the next run is due
    handle: () => parts().checkpoints.runScheduled(),
  });
}
