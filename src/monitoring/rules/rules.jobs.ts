/**
 * The rules' jobs. The scan runs every MONITORING_SCAN_SECONDS and each run schedules its successor (one per time
 * slot, however many instances); the nightly run across tenders the same way, one per date; the analysis of an
 * opened tender is enqueued by the scan. Payloads carry ids and slots only.
 */
import type { Runner } from '../../db';
import { enqueueInTrx } from '../../shared/queue';
import { hasOpenJob } from '../../shared/queue/outbox.repository';
import type { JobRegistry } from '../../shared/queue/jobs';
import { HOUR_MS } from '../../shared/clock';
import { shanghaiDayNumber, startOfShanghaiDay } from '../../shared/time';
import type { RuleEngine } from './engine';

export const SCAN_JOB = { queue: 'monitoring', name: 'monitoring.scan' } as const;
export const ANALYSE_OPENING_JOB = { queue: 'monitoring', name: 'monitoring.analyse-opening' } as const;
export const NIGHTLY_RULES_JOB = { queue: 'monitoring', name: 'monitoring.nightly' } as const;

/** 02:00 Shanghai: after the day's openings, before anyone reads the morning's alerts. */
const NIGHTLY_HOUR = 2;

export async function scheduleRuleJobs(trx: Runner, now: Date, scanSeconds: number): Promise<void> {
  const slot = Math.floor(now.getTime() / (scanSeconds * 1000)) + 1;
  if (!(await hasOpenJob(trx, SCAN_JOB.name, { slot }))) {
    await enqueueInTrx(trx, { ...SCAN_JOB, payload: { slot }, runAt: new Date(slot * scanSeconds * 1000) });
  }
  const day = shanghaiDayNumber(now) + 1;
  if (!(await hasOpenJob(trx, NIGHTLY_RULES_JOB.name, { day }))) {
    await enqueueInTrx(trx, { ...NIGHTLY_RULES_JOB, payload: { day }, runAt: new Date(startOfShanghaiDay(day).getTime() + NIGHTLY_HOUR * HOUR_MS) });
  }
}

export function registerRuleJobs(registry: JobRegistry, parts: () => { engine: RuleEngine; schedule(): Promise<void> }): void {
  registry.register<{ slot: number }>({
    ...SCAN_JOB,
    attempts: 3,
    handle: async () => {
      await parts().engine.scan();
      await parts().schedule();
    },
  });
  registry.register<{ tenderId: string }>({
    ...ANALYSE_OPENING_JOB,
    attempts: 3,
    backoffMs: 5000,
    handle: async ({ tenderId }) => {
      await parts().engine.analyseOpened(tenderId);
    },
  });
  registry.register<{ day: number }>({
    ...NIGHTLY_RULES_JOB,
    attempts: 3,
    backoffMs: 60_000,
    handle: async () => {
      await parts().engine.runScheduled();
      await parts().schedule();
    },
  });
}
