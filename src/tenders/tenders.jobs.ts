import { systemContext } from '../shared/access';
import type { JobRegistry } from '../shared/queue/jobs';
import type { TenderService } from './tenders.service';
import type { BidUploadService } from '../bids/bid-upload.service';
import type { OpeningService } from '../opening/opening.service';

/** The deadline seals the tender by itself (EB 27, TL 34): written to the outbox when the tender is published. */
export const SEAL_JOB = { queue: 'tenders', name: 'tenders.seal' } as const;

export function registerTenderJobs(
  registry: JobRegistry,
  services: () => { tenders: TenderService; uploads: BidUploadService; opening: OpeningService },
): void {
  registry.register<{ tenderId: string }>({
    ...SEAL_JOB,
    attempts: 10,
    handle: async ({ tenderId }, job) => {
      const ctx = systemContext(`job-${job.outboxId}`);
      const { tenders, uploads, opening } = services();
      // idempotent: a second delivery finds the tender sealed, no upload left open and the opening begun
      const outcome = await tenders.sealIfDue(tenderId, ctx);
      if (outcome === 'not-due') return;
      await uploads.expireOpenUploads(ctx, tenderId);
      // EB 29: the opening happens online at the deadline, by itself
      const tender = await tenders.findForJob(tenderId);
      if (tender?.status === 'sealed') await opening.begin(tenderId, ctx);
    },
  });
}
