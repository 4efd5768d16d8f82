/**
 * Wires the platform together once per process: stores, queue, events, the platform keys and every service.
 * The API server, the worker, the CLIs and the tests all start from here, so they run the same code path.
 */
import type { Config } from './config';
import { createDb, migrateLatest, type Db } from './db';
import { ControllableClock, SystemClock, type Clock } from './shared/clock';
import { createLogger, type Logger } from './shared/logger';
import { createBlobStore, type BlobStore } from './shared/blobs';
import { createEventBus, type EventBus } from './shared/events';
import { createRateLimitStore, type RateLimitStore } from './shared/http/rate-limit-store';
import { startClockSync, type ClockSync } from './shared/clock-sync';
import { createJobQueue, JobRegistry, OutboxDispatcher, type JobQueue } from './shared/queue';
import { AuditService } from './monitoring/audit.service';
import { loadPlatformKeys, type PlatformKeys } from './identity/platform-keys';
import { IdentityService } from './identity/identity.service';
import { CertificateService } from './identity/certificates.service';
import { AuthService } from './identity/auth.service';
import { TokenSigner } from './identity/tokens';
import { ensureOperator } from './identity/bootstrap';
import { TenderService } from './tenders/tenders.service';
import { CustodyService } from './custody/custody.service';
import { AlertsService } from './monitoring/alerts.service';
import { AlertReviewService } from './monitoring/alert-review.service';
import { AlertReportService } from './monitoring/alert-report.service';
import { BidUploadService } from './bids/bid-upload.service';
import { BidService } from './bids/bids.service';
import { OpeningService } from './opening/opening.service';
import { OpeningSteps } from './opening/opening-steps';
import { CustodianRemedy } from './opening/custodian-remedy';
import { OpeningReadout } from './opening/opening-readout.service';
import { registerOpeningJobs } from './opening/opening.jobs';
import { renderSignedOpeningRecord } from './opening/opening-record';
import { BidOpener } from './opening/bid-opener';
import { registerTenderJobs } from './tenders/tenders.jobs';
import { LiveEvents } from './live/live.service';
import { AwardService } from './award/award.service';
import { CalendarService } from './calendar/calendar.service';
import { HttpBankGateway } from './bank/http-gateway';
import { DepositReleases } from './deposits/deposit-releases';
import { refundDueDates } from './deposits/refund-due';
import { CreditService } from './deposits/credits.service';
import { DepositService } from './deposits/deposits.service';
import { RefundService } from './deposits/refunds.service';
import { ReconciliationService } from './deposits/reconciliation.service';
import { SlaReportService } from './deposits/sla-report';
import { registerDepositJobs } from './deposits/deposits.jobs';
import { CheckpointService } from './monitoring/checkpoints.service';
import { registerCheckpointJobs } from './monitoring/monitoring.jobs';
import { RuleEngine } from './monitoring/rules/engine';
import { OcdsService } from './opendata/ocds.service';
import { RULES } from './monitoring/rules';
import { registerRuleJobs, scheduleRuleJobs } from './monitoring/rules/rules.jobs';
import { CalendarYearMissing } from './calendar/calendar.errors';
import { weekday } from './calendar/working-days';

export interface Services {
  audit: AuditService;
  alerts: AlertsService;
  alertReview: AlertReviewService;
  alertReport: AlertReportService;
  identity: IdentityService;
  certificates: CertificateService;
  auth: AuthService;
  tenders: TenderService;
  custody: CustodyService;
  uploads: BidUploadService;
  bids: BidService;
  opening: OpeningService;
  openingReadout: OpeningReadout;
  live: LiveEvents;
  award: AwardService;
  calendar: CalendarService;
  deposits: DepositService;
  credits: CreditService;
  refunds: RefundService;
  reconciliation: ReconciliationService;
  sla: SlaReportService;
  monitoring: RuleEngine;
  checkpoints: CheckpointService;
  ocds: OcdsService;
}

export interface AppContext {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  blobs: BlobStore;
  events: EventBus;
  /** The rate-limit counters (in Redis when there is one, so every API instance counts alike). */
  rateLimits: RateLimitStore;
  /** CLOCK=controllable: shares moves of platform time with the deployment's other processes. */
  clockSync?: ClockSync;
  registry: JobRegistry;
  queue: JobQueue;
  dispatcher: OutboxDispatcher;
  keys: PlatformKeys;
  services: Services;
  /** Starts the job workers and the outbox dispatcher in this process. */
  startJobs(): Promise<void>;
  close(): Promise<void>;
}

export interface ContextOptions {
  clock?: Clock;
  logger?: Logger;
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  /** Create the first operator if there is none (default true). */
  bootstrap?: boolean;
  /** Where to show the one-time admin password. */
  announce?: (text: string) => void;
}

export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? (config.clock === 'controllable' ? new ControllableClock() : new SystemClock());
  const db = createDb(config);
  if (opts.migrate ?? true) await migrateLatest(db);

  const blobs = createBlobStore(config);
  const events = createEventBus(config, logger);
  const rateLimits = createRateLimitStore(config.redis); // connects on first use: workers never do
  const clockSync = config.clock === 'controllable' && clock instanceof ControllableClock ? await startClockSync(config, clock, events, logger) : undefined;
  const registry = new JobRegistry();
  const queue = createJobQueue(config, { db, clock, registry, logger });
  const dispatcher = new OutboxDispatcher({
    db,
    clock,
    queue,
    registry,
    logger,
    pollMs: config.outbox.pollMs,
    sweepSeconds: config.outbox.sweepSeconds,
  });

  const keys = await loadPlatformKeys(db, clock, { passphrase: config.platformKeyPassphrase, platformName: config.platformName });
  const audit = new AuditService(db, clock);
  const identity = new IdentityService(db, clock, audit);
  const certificates = new CertificateService(db, clock, audit, keys, config.certValidityDays);
  const tokens = new TokenSigner(keys.tokenSecret, clock, config.tokenTtlSeconds);
  const auth = new AuthService(db, clock, audit, certificates, tokens, config.loginChallengeTtlSeconds, config.sessionMaxHours * 3600);
  const alerts = new AlertsService(db, clock, audit, config.alerts.dueWorkingDays);
  const alertReview = new AlertReviewService(db, clock, audit, alerts);
  const alertReport = new AlertReportService(db, clock, alerts);
  const calendar = new CalendarService(db, clock, audit, alerts);
  // the bank (银企直连): unset, deposit accounts are refused and refunds wait for one
  const bank = config.bank.url ? new HttpBankGateway({ baseUrl: config.bank.url, timeoutMs: config.bank.timeoutMs }) : null;
  const releases = new DepositReleases(clock, audit, refundDueDates(calendar));
  const deposits = new DepositService(db, clock, audit, blobs, bank);
  const credits = new CreditService(db, clock, audit, alerts, releases, config.bank.notifySecret);
  const refunds = new RefundService(db, clock, audit, alerts, blobs, bank, config.bank.interestRateBp);
  const reconciliation = new ReconciliationService(db, clock, audit, alerts, credits, bank);
  const sla = new SlaReportService(db, clock);
  const custody = new CustodyService(db, clock, audit, alerts, certificates, config.platformKeyPassphrase);
  const tenders = new TenderService(db, clock, audit, blobs, custody, releases);
  const uploads = new BidUploadService(db, clock, audit, blobs, certificates, keys, config.bidMaxBytes);
  const bids = new BidService(db, clock, audit, releases);
  const live = new LiveEvents(db, clock, events, { logger });
  // bids are opened on worker threads, so several large bids use both cores
  const opener = new BidOpener(blobs);
  const steps = new OpeningSteps(db, clock, audit, live);
  const remedy = new CustodianRemedy(db, clock, steps, audit, live, blobs, opener, custody);
  const opening = new OpeningService(db, clock, steps, audit, alerts, certificates, live, opener, remedy, config.platformKeyPassphrase, releases);
  const openingReadout = new OpeningReadout(db, clock, steps, blobs, opening, (tenderId) => renderSignedOpeningRecord(db, keys, tenderId, clock.now()));
  const award = new AwardService(db, clock, audit, blobs, keys, releases);
  const monitoring = new RuleEngine(db, clock, audit, alerts, {
    clock,
    blobs,
    // a year with no published notice is reported by the calendar itself; the rules fall back to Monday–Friday
    isWorkingDay: (date, db) => calendar.isWorkingDay(date, { db }).catch((err) => (CalendarYearMissing.is(err) ? weekday(date) <= 5 : Promise.reject(err))),
  }, RULES, config.monitoring.thresholds, logger);
  const scheduleRules = () => db.transaction((trx) => scheduleRuleJobs(trx, clock.now(), config.monitoring.scanSeconds));
  const checkpoints = new CheckpointService(db, clock, audit, keys, { platformName: config.platformName, intervalMinutes: config.audit.checkpointMinutes });
  const ocds = new OcdsService(db, clock, { prefix: config.ocds.prefix, publisherName: config.platformName });
  const services: Services = { audit, alerts, alertReview, alertReport, identity, certificates, auth, tenders, custody, uploads, bids, opening, openingReadout, live, award, calendar, deposits, credits, refunds, reconciliation, sla, monitoring, checkpoints, ocds };

  registerTenderJobs(registry, () => ({ tenders, uploads, opening }));
  registerOpeningJobs(registry, () => ({ opening, remedy, readout: openingReadout }));
  registerDepositJobs(registry, () => ({ refunds, reconciliation }));
  registerCheckpointJobs(registry, () => ({ checkpoints }));
  registerRuleJobs(registry, () => ({ engine: monitoring, schedule: scheduleRules }));

  if (opts.bootstrap ?? true) {
    await ensureOperator(db, identity, audit, {
      platformName: config.platformName,
      adminPassword: config.adminPassword,
      logger,
      announce: opts.announce ?? ((text) => logger.warn(text)),
    });
  }

  let jobsStarted = false;
  return {
    config,
    db,
    clock,
    logger,
    blobs,
    events,
    rateLimits,
    clockSync,
    registry,
    queue,
    dispatcher,
    keys,
    services,
    async startJobs() {
      if (jobsStarted) return;
      jobsStarted = true;
      await reconciliation.schedule(); // the nightly statement check, once whatever the number of instances
      await scheduleRules(); // the monitoring scan and the nightly rules, likewise
      await checkpoints.schedule(); // the audit chain's signed checkpoints, likewise
      await queue.startWorkers(config.jobConcurrency);
      dispatcher.start();
    },
    async close() {
      await dispatcher.stop();
      await queue.close();
      await opener.close();
      await live.close();
      await clockSync?.close();
      await events.close();
      await rateLimits.close();
      await db.destroy();
    },
  };
}
