import { systemContext } from '../shared/access';
import type { JobRegistry } from '../shared/queue/jobs';
import type { OpeningService } from './opening.service';
import type { OpeningReadout } from './opening-readout.service';
import type { CustodianRemedy } from './custodian-remedy';

/** Jobs carry ids only: the content key waits, sealed, in PostgreSQL and never rides in a payload. */
export const DECRYPT_JOB = { queue: 'opening', name: 'opening.decrypt' } as const;
export const CLOSE_WINDOW_JOB = { queue: 'opening', name: 'opening.close-window' } as const;
export const CLOSE_CONFIRMATIONS_JOB = { queue: 'opening', name: 'opening.close-confirmations' } as const;
/** The custodians' remedy (EB 31): enqueued when it starts and by every share release that reaches the threshold. */
export const CUSTODIAN_OPEN_JOB = { queue: 'opening', name: 'opening.custodian-open' } as const;

export const DECRYPT_ATTEMPTS = 3;
export const CUSTODIAN_OPEN_ATTEMPTS = 3;

export interface OpeningParts {
  opening: OpeningService;
  remedy: CustodianRemedy;
  readout: OpeningReadout;
}

export function registerOpeningJobs(registry: JobRegistry, parts: () => OpeningParts): void {
  registry.register<{ bidId: string }>({
    ...DECRYPT_JOB,
    attempts: DECRYPT_ATTEMPTS,
    backoffMs: 500,
    handle: ({ bidId }, job) => parts().opening.decryptBid(bidId, job.attempt >= DECRYPT_ATTEMPTS, systemContext(`job-${job.outboxId}`)),
  });
  registry.register<{ tenderId: string }>({
    ...CLOSE_WINDOW_JOB,
    attempts: 10,
    handle: ({ tenderId }, job) => parts().opening.closeWindow(tenderId, systemContext(`job-${job.outboxId}`)),
  });
  registry.register<{ tenderId: string }>({
    ...CUSTODIAN_OPEN_JOB,
    attempts: CUSTODIAN_OPEN_ATTEMPTS,
    backoffMs: 500,
    handle: ({ tenderId }, job) => parts().remedy.run(tenderId, job.attempt >= CUSTODIAN_OPEN_ATTEMPTS, systemContext(`job-${job.outboxId}`)),
  });
  registry.register<{ tenderId: string }>({
    ...CLOSE_CONFIRMATIONS_JOB,
    attempts: 10,
    handle: ({ tenderId }, job) => parts().readout.closeConfirmations(tenderId, systemContext(`job-${job.outboxId}`)),
  });
}
