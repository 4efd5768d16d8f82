import { UnrecoverableJobError, type JobRegistry } from '../shared/queue/jobs';
import type { CheckpointService } from './checkpoints.service';
import { AuditChainBroken } from './checkpoints.errors';

/** Every AUDIT_CHECKPOINT_MINUTES: a signed checkpoint of the audit chain if it grew. Payload: the slot it runs for. */
export const CHECKPOINT_JOB = { queue: 'monitoring', name: 'monitoring.checkpoint' } as const;

export function registerCheckpointJobs(registry: JobRegistry, parts: () => { checkpoints: CheckpointService }): void {
  registry.register<{ at: string }>({
    ...CHECKPOINT_JOB,
    attempts: 3,
    backoffMs: 5000,
    // idempotent: a second delivery finds the chain no longer grown and only makes sure the next run is due
    handle: async () => {
      try {
        await parts().checkpoints.runScheduled();
      } catch (err) {
        // a broken chain stays broken: no retry, the failure stays in the outbox and the next run finds it again
        if (AuditChainBroken.is(err)) throw new UnrecoverableJobError(err.message);
        throw err;
      }
    },
  });
}
