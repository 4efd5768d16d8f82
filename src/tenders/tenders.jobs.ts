import { systemContext } from '../shared/access';
import type { JobRegistry } from '../shared/queue/jobs';
import type { TenderService } from './tenders.service';
import type { BidUploadService } from '../bids/bid-upload.service';

/** The deadline seals the tender by itself (EB 27, TL 34): written to the outbox when the tender is published. */
export const SEAL_JOB = { queue: 'tenders', name: 'tenders.seal' } as const;

export function registerTenderJobs(
  registry: JobRegistry,
  services: () => { tenders: TenderService; uploads: BidUploadService },
): void {
  registry.register<{ tenderId: string }>({
    ...SEAL_JOB,
    attempts: 10,
    handle: async ({ tenderId }, job) => {
      const ctx = systemContext(`job-${job.outboxId}`);
      const { tenders, uploads } = services();
      // idempotent: a second delivery finds the tender sealed and no upload left open
      const outcome = await tenders.sealIfDue(tenderId, ctx);
      if (outcome !== 'not-due') await uploads.expireOpenUploads(ctx, tenderId);
    },
  });
}
