import { systemContext } from '../shared/access';
import type { JobRegistry } from '../shared/queue/jobs';
import type { TenderService } from './tenders.service';

/** The deadline seals the tender by itself (EB 27, TL 34): written to the outbox when the tender is published. */
export const SEAL_JOB = { queue: 'tenders', name: 'tenders.seal' } as const;

export function registerTenderJobs(registry: JobRegistry, tenders: () => TenderService): void {
  registry.register<{ tenderId: string }>({
    ...SEAL_JOB,
    attempts: 10,
    handle: async ({ tenderId }, job) => {
      await tenders().sealIfDue(tenderId, systemContext(`job-${job.outboxId}`));
    },
  });
}
