/**
 * The control API under /sim: what tests, the demo and CI use to play the payer's side and the bank's misbehaviour.
 * Never part of what a real bank offers.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { SimBank } from './bank';
import type { SimClock } from './clock';
import { FaultPatchSchema, type Faults } from './faults';
import type { Ledger } from './ledger';
import type { Notifier } from './notifier';

export interface ControlDeps {
  bank: SimBank;
  ledger: Ledger;
  clock: SimClock;
  faults: Faults;
  notifier: Notifier;
}

const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());
const text = z.string().min(1).max(200);

const CreditSchema = z.strictObject({
  virtualAccountNo: text,
  payerAccountNo: text,
  payerAccountName: text,
  payerBankName: text,
  amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  bookedAt: instant.optional(),
});
const ClockSchema = z.strictObject({ now: instant.optional() });
const RedeliverSchema = z.strictObject({ txnId: text, sameNonce: z.boolean().optional() });
const WebhookSchema = z.strictObject({ url: z.url(), secret: z.string().min(1).optional() });

export function controlRoutes({ bank, ledger, clock, faults, notifier }: ControlDeps): Router {
  const r = Router();

  /** Books an incoming transfer and answers once it is booked; the notification follows in the background. */
  r.post('/credit', (req, res) => {
    const transfer = bank.credit(CreditSchema.parse(req.body));
    res.status(201).json({ txnId: transfer.txnId, bookedAt: transfer.bookedAt });
  });

  r.get('/clock', (_req, res) => {
    res.json({ now: clock.now().toISOString(), systemTime: clock.isSystemTime });
  });
  /** `{now}` sets the clock, which runs on from there; `{}` goes back to system time. */
  r.post('/clock', (req, res) => {
    const { now } = ClockSchema.parse(req.body ?? {});
    if (now) clock.set(new Date(now));
    else clock.reset();
    res.json({ now: clock.now().toISOString(), systemTime: clock.isSystemTime });
  });

  r.get('/faults', (_req, res) => {
    res.json(faults.current);
  });
  r.post('/faults', (req, res) => {
    faults.update(FaultPatchSchema.parse(req.body ?? {}));
    res.json(faults.current);
  });
  r.post('/faults/reset', (_req, res) => {
    faults.reset();
    res.json(faults.current);
  });

  r.get('/ledger', (_req, res) => {
    res.json(bank.view());
  });

  /** One more delivery of a past notification, answered with the platform's answer (for replay tests). */
  r.post('/redeliver', async (req, res) => {
    const { txnId, sameNonce } = RedeliverSchema.parse(req.body);
    const credit = ledger.credits.get(txnId);
    if (!credit) {
      res.status(404).json({ error: { code: 'TXN_NOT_FOUND', message: `没有这笔入账 (no credit ${txnId})` } });
      return;
    }
    res.json(await notifier.redeliver(credit.transfer, sameNonce ?? false));
  });

  /** Where notifications go (and optionally the secret they are signed with); held ones are sent now. */
  r.post('/webhook', (req, res) => {
    const { url, secret } = WebhookSchema.parse(req.body);
    notifier.setWebhook(url, secret);
    res.json({ url });
  });

  return r;
}
