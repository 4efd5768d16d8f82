/**
 * The simulator's HTTP side: the bank API that HttpBankGateway calls, the control API under /sim, one error shape
 * (`{ error: { code, message } }`), and `startSimulator`, which wires the ledger, clock, faults and notifier.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { z } from 'zod';
import { SimBank, SimBankError } from './bank';
import { SimClock } from './clock';
import type { SimConfig } from './config';
import { controlRoutes } from './control';
import { Faults } from './faults';
import { Ledger } from './ledger';
import { Notifier } from './notifier';

const text = z.string().min(1).max(200);

const OpenAccountSchema = z.strictObject({ reference: text, name: text });
const TransferSchema = z.strictObject({
  idempotencyKey: z.string().min(1).max(128),
  fromAccountNo: text,
  toAccountNo: text,
  toAccountName: text,
  toBankName: text,
  amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  memo: z.string().max(200),
});
const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface AppDeps {
  bank: SimBank;
  ledger: Ledger;
  clock: SimClock;
  faults: Faults;
  notifier: Notifier;
}

export function buildSimApp(deps: AppDeps): Express {
  const { bank, faults } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.post('/accounts/virtual', (req, res) => {
    const { reference, name } = OpenAccountSchema.parse(req.body);
    res.json(bank.openVirtualAccount(reference, name));
  });

  app.post('/payouts', (req, res) => {
    if (faults.take('failNext')) {
      res.status(503).json({ error: { code: 'SERVICE_UNAVAILABLE', message: '银行系统繁忙 (bank busy, nothing booked)' } });
      return;
    }
    const status = bank.requestPayout(TransferSchema.parse(req.body));
    // timeoutNext: booked, but the answer never comes; the client gives up not knowing. The socket is left to the
    // client (or to close()).
    if (faults.take('timeoutNext')) return;
    res.json(status);
  });

  app.get('/payouts/:idempotencyKey', (req, res) => {
    const status = bank.payoutStatus(req.params.idempotencyKey);
    if (!status) {
      res.status(404).json({ error: { code: 'PAYOUT_NOT_FOUND', message: '没有这笔付款 (no payout under this key)' } });
      return;
    }
    res.json(status);
  });

  app.get('/statements/:date', (req, res) => {
    if (!DATE.test(req.params.date)) {
      res.status(400).json({ error: { code: 'VALIDATION_FAILED', message: '日期应为 YYYY-MM-DD (date must be YYYY-MM-DD)' } });
      return;
    }
    res.json(bank.statement(req.params.date));
  });

  app.use('/sim', controlRoutes(deps));

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: '没有这个接口 (no such endpoint)' } });
  });
  app.use(errorHandler);
  return app;
}

const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof SimBankError) {
    res.status(err.status).json({ error: { code: err.code, message: err.message } });
  } else if (err instanceof z.ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    res.status(400).json({ error: { code: 'VALIDATION_FAILED', message: '请求内容不符合要求 (request validation failed)', details: { issues } } });
  } else if (err?.type === 'entity.parse.failed') {
    res.status(400).json({ error: { code: 'MALFORMED_JSON', message: '请求体不是合法的 JSON (malformed JSON body)' } });
  } else {
    console.error('bank simulator error:', err);
    res.status(500).json({ error: { code: 'INTERNAL', message: '模拟银行内部错误 (bank simulator internal error)' } });
  }
};

export interface RunningSimulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Opens (or replays) the ledger, listens, tells `onListening` where (before anything else is logged), then resumes
 * the work a previous run left unfinished.
 */
export async function startSimulator(
  config: SimConfig,
  log: (line: string) => void,
  onListening: (url: string) => void = () => {},
): Promise<RunningSimulator> {
  const ledger = Ledger.open(config.ledgerFile);
  const clock = new SimClock();
  const faults = new Faults({ payoutDelayMs: config.payoutDelayMs });
  const notifier = new Notifier({
    webhookUrl: config.webhookUrl,
    secret: config.secret,
    clock,
    faults,
    maxAttempts: config.notifyMaxAttempts,
    retryBaseMs: config.notifyRetryBaseMs,
    onDelivered: (txnId) => ledger.append({ type: 'delivery', txnId, outcome: 'delivered' }),
    onGaveUp: (txnId) => ledger.append({ type: 'delivery', txnId, outcome: 'gave-up' }),
    log,
  });
  const bank = new SimBank(ledger, clock, faults, notifier, log);
  const app = buildSimApp({ bank, ledger, clock, faults, notifier });

  const server: Server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host}:${port}`;
  onListening(url);
  bank.resume();
  return {
    url,
    port,
    close: async () => {
      notifier.close();
      bank.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      ledger.close();
    },
  };
}
