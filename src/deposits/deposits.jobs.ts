import { systemContext } from '../shared/access';
import type { JobRegistry } from '../shared/queue/jobs';
import type { RefundService } from './refunds.service';
import type { ReconciliationService } from './reconciliation.service';

/** Jobs carry ids only; the refund id is also the bank's idempotency key, so a job run twice pays once. */
export const REFUND_JOB = { queue: 'deposits', name: 'deposits.refund' } as const;
/** Halfway to the due time and at it: an alert while a refund is still unpaid. */
export const REFUND_WATCH_JOB = { queue: 'deposits', name: 'deposits.refund-watch' } as const;
export const VOUCHER_JOB = { queue: 'deposits', name: 'deposits.voucher' } as const;
/** Each night, the bank's statement of the day before against what the platform recorded. */
export const RECONCILE_JOB = { queue: 'deposits', name: 'deposits.reconcile' } as const;

/** A refund keeps trying through a bank outage; the watch alerts long before these run out. */
export const REFUND_ATTEMPTS = 25;

export function registerDepositJobs(registry: JobRegistry, parts: () => { refunds: RefundService; reconciliation: ReconciliationService }): void {
  registry.register<{ refundId: string }>({
    ...REFUND_JOB,
    attempts: REFUND_ATTEMPTS,
    backoffMs: 1000,
    handle: ({ refundId }, job) => parts().refunds.pay(refundId, systemContext(`job-${job.outboxId}`)),
  });
  registry.register<{ refundId: string; stage: 'at-risk' | 'overdue' }>({
    ...REFUND_WATCH_JOB,
    attempts: 5,
    handle: ({ refundId, stage }, job) => parts().refunds.watch(refundId, stage, systemContext(`job-${job.outboxId}`)),
  });
  registry.register<{ refundId: string }>({
    ...VOUCHER_JOB,
    attempts: 5,
    handle: ({ refundId }) => parts().refunds.renderVoucher(refundId),
  });
  registry.register<{ date: string }>({
    ...RECONCILE_JOB,
    attempts: 10,
    backoffMs: 5000,
    handle: async ({ date }, job) => {
      await parts().reconciliation.reconcile(date, systemContext(`job-${job.outboxId}`));
    },
  });
}
