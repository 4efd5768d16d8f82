import assert from 'node:assert/strict';
import type { Config } from '../../src/config';
import type { Db } from '../../src/db';
import { ControllableClock, HOUR_MS } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { createJobQueue, JobRegistry, OutboxDispatcher, UnrecoverableJobError, type JobQueue } from '../../src/shared/queue';
import { enqueueInTrx, get as getOutboxRow } from '../../src/shared/queue/outbox.repository';
import { createMigratedDatabase, flushRedisPrefix, redisPrefix, usingRedis } from '../support/env';

const START = new Date('2026-11-23T09:00:00.000Z');
const SWEEP_SECONDS = 60;

interface Harness {
  config: Config;
  db: Db;
  clock: ControllableClock;
  registry: JobRegistry;
  queue: JobQueue;
  dispatcher: OutboxDispatcher;
  calls: Array<{ payload: object; attempt: number; outboxId: number }>;
  close(): Promise<void>;
}

let seq = 0;
async function harness(label: string, behaviour: (attempt: number) => Promise<void> = async () => {}, def: { attempts?: number } = {}): Promise<Harness> {
  const fresh = await createMigratedDatabase(`outbox_${label}`);
  const prefix = redisPrefix(`outbox-${label}-${seq++}`);
  const config: Config = { ...fresh.config, redis: { ...fresh.config.redis, prefix } };
  const db = fresh.db;
  await db.schema.createTable('test_refunds', (t) => {
    t.bigIncrements('id');
    t.integer('amount_fen').notNullable();
  });
  const clock = new ControllableClock(START);
  clock.freeze(START);
  const logger = createLogger('silent');
  const calls: Harness['calls'] = [];
  const registry = new JobRegistry();
  registry.register<{ refundId: number }>({
    queue: 'deposits',
    name: 'refund.pay',
    attempts: def.attempts ?? 3,
    backoffMs: 1,
    async handle(payload, ctx) {
      calls.push({ payload, attempt: ctx.attempt, outboxId: ctx.outboxId });
      await behaviour(ctx.attempt);
    },
  });
  const queue = createJobQueue(config, { db, clock, registry, logger });
  const dispatcher = new OutboxDispatcher({ db, clock, queue, registry, logger, pollMs: 60_000, sweepSeconds: SWEEP_SECONDS });
  return {
    config,
    db,
    clock,
    registry,
    queue,
    dispatcher,
    calls,
    async close() {
      await dispatcher.stop();
      await queue.close();
      await db.destroy();
      if (config.redis.url) await flushRedisPrefix(config.redis.url, prefix);
    },
  };
}

/** A business change and its job in one transaction, as a service does it. */
async function createRefund(h: Harness, opts: { runAt?: Date; fail?: boolean } = {}): Promise<{ refundId: number; outboxId: number }> {
  return h.db.transaction(async (trx) => {
    const [row] = await trx('test_refunds').insert({ amount_fen: 50_000_00 }).returning('id');
    const refundId = Number((row as { id: number }).id);
    const outboxId = await enqueueInTrx(trx, {
      queue: 'deposits',
      name: 'refund.pay',
      payload: { refundId },
      runAt: opts.runAt ?? h.clock.now(),
    });
    if (opts.fail) throw new Error('business rule refused the change');
    return { refundId, outboxId };
  });
}

describe(`jobs: outbox and dispatcher (${usingRedis() ? 'BullMQ on Redis' : 'in-process'})`, function () {
  const open: Harness[] = [];
  async function make(...args: Parameters<typeof harness>): Promise<Harness> {
    const h = await harness(...args);
    open.push(h);
    return h;
  }
  afterEach(async function () {
    for (const h of open.splice(0)) await h.close();
  });

  it('when a job is written in the same transaction as a business row, then it is dispatched and run exactly once', async function () {
    const h = await make('once');
    await h.queue.startWorkers(2);
    const { refundId, outboxId } = await createRefund(h);

    assert.equal(await h.dispatcher.tick(), 1);
    await h.queue.drain();
    assert.equal(await h.dispatcher.tick(), 0, 'a dispatched row is not claimed again');
    await h.queue.drain();

    assert.deepEqual(h.calls, [{ payload: { refundId }, attempt: 1, outboxId }]);
    const row = await getOutboxRow(h.db, outboxId);
    assert.equal(row?.status, 'done');
    assert.equal(row?.attempts, 1);
    assert.deepEqual(row?.finishedAt, START);
    assert.deepEqual(row?.enqueuedAt, START);
  });

  it('when the business transaction rolls back, then no job is left', async function () {
    const h = await make('rollback');
    await h.queue.startWorkers();
    await assert.rejects(createRefund(h, { fail: true }), /business rule refused/);

    const [{ n }] = await h.db('outbox').count<{ n: number | string }[]>({ n: '*' });
    assert.equal(Number(n), 0);
    assert.equal(await h.dispatcher.tick(), 0);
    await h.queue.drain();
    assert.equal(h.calls.length, 0);
  });

  it('when a job is due in the future, then it runs only after the platform clock moves past run_at', async function () {
    const h = await make('future');
    await h.queue.startWorkers();
    h.dispatcher.start(); // also ticks when the ControllableClock moves
    const runAt = new Date(START.getTime() + 2 * HOUR_MS);
    const { outboxId } = await createRefund(h, { runAt });

    assert.equal(await h.dispatcher.tick(), 0);
    await h.queue.drain();
    assert.equal(h.calls.length, 0);

    h.clock.set(new Date(runAt.getTime() - 1));
    await h.dispatcher.tick();
    await h.queue.drain();
    assert.equal(h.calls.length, 0, 'one millisecond before run_at it is not due');

    h.clock.set(runAt);
    await h.dispatcher.tick(); // waits for the tick the clock move started
    await h.queue.drain();
    assert.equal(h.calls.length, 1);
    assert.equal((await getOutboxRow(h.db, outboxId))?.status, 'done');
  });

  it('when a job keeps failing, then it is retried up to its attempts and ends failed with last_error', async function () {
    const h = await make('retry', async (attempt) => {
      throw new Error(`bank gateway timeout (try ${attempt})`);
    });
    await h.queue.startWorkers();
    const { outboxId } = await createRefund(h);

    assert.equal(await h.dispatcher.tick(), 1);
    await h.queue.drain();

    assert.deepEqual(
      h.calls.map((c) => c.attempt),
      [1, 2, 3],
    );
    const row = await getOutboxRow(h.db, outboxId);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, 3);
    assert.match(row?.lastError ?? '', /bank gateway timeout \(try 3\)/);
    assert.deepEqual(row?.finishedAt, START);
  });

  it('when a job fails transiently, then a retry succeeds and the row ends done', async function () {
    const h = await make('transient', async (attempt) => {
      if (attempt === 1) throw new Error('connection reset');
    });
    await h.queue.startWorkers();
    const { outboxId } = await createRefund(h);
    await h.dispatcher.tick();
    await h.queue.drain();

    assert.equal(h.calls.length, 2);
    const row = await getOutboxRow(h.db, outboxId);
    assert.equal(row?.status, 'done');
    assert.equal(row?.attempts, 2);
    assert.equal(row?.lastError, null);
  });

  it('when a handler throws UnrecoverableJobError, then it is not retried', async function () {
    const h = await make(
      'unrecoverable',
      async () => {
        throw new UnrecoverableJobError('refund already paid by hand');
      },
      { attempts: 5 },
    );
    await h.queue.startWorkers();
    const { outboxId } = await createRefund(h);
    await h.dispatcher.tick();
    await h.queue.drain();

    assert.equal(h.calls.length, 1);
    const row = await getOutboxRow(h.db, outboxId);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, 1);
    assert.match(row?.lastError ?? '', /refund already paid by hand/);
  });

  it('when the queue lost an enqueued job, then the sweeper adds it again and it runs once', async function () {
    const h = await make('sweep');
    const lost = await createRefund(h);
    if (usingRedis()) {
      assert.equal(await h.dispatcher.tick(), 1);
      assert.equal(await h.queue.exists(lost.outboxId, 'deposits'), true);
      // Redis lost everything under the prefix (a restart without persistence).
      assert.ok((await flushRedisPrefix(h.config.redis.url!, h.config.redis.prefix)) > 0);
    } else {
      // The process died between claiming the row and handing it to the in-process queue.
      await h.db('outbox').where({ id: lost.outboxId }).update({ status: 'enqueued', enqueued_at: h.clock.now() });
    }
    assert.equal(await h.queue.exists(lost.outboxId, 'deposits'), false);
    const kept = await createRefund(h);
    assert.equal(await h.dispatcher.tick(), 1, 'only the second row is pending');
    assert.equal(await h.queue.exists(kept.outboxId, 'deposits'), true);

    assert.equal(await h.dispatcher.sweep(), 0, 'a row enqueued less than sweepSeconds ago is left alone');
    h.clock.advance((SWEEP_SECONDS + 1) * 1000);
    assert.equal(await h.dispatcher.sweep(), 1, 'only the lost job is re-added; the queue still holds the other');

    await h.queue.startWorkers();
    await h.queue.drain();
    assert.deepEqual(h.calls.map((c) => c.outboxId).sort(), [lost.outboxId, kept.outboxId].sort());
    assert.equal((await getOutboxRow(h.db, lost.outboxId))?.status, 'done');
    assert.equal((await getOutboxRow(h.db, kept.outboxId))?.status, 'done');
    h.clock.advance((SWEEP_SECONDS + 1) * 1000);
    assert.equal(await h.dispatcher.sweep(), 0, 'finished rows are never swept');
  });

  it('when the same outbox id is added twice, then the handler runs once', async function () {
    const h = await make('duplicate');
    const { refundId, outboxId } = await createRefund(h);
    assert.equal(await h.dispatcher.tick(), 1);
    const job = { outboxId, name: 'refund.pay', queue: 'deposits', payload: { refundId } };
    await h.queue.add(job); // still waiting: a no-op
    await h.queue.startWorkers(4);
    await h.queue.drain();
    await h.queue.add(job); // already done: delivered again, skipped by the runner
    await h.queue.drain();

    assert.equal(h.calls.length, 1);
    const row = await getOutboxRow(h.db, outboxId);
    assert.equal(row?.status, 'done');
    assert.equal(row?.attempts, 1);
  });

  it('when the queue refuses a job, then its row goes back to pending and a later tick hands it over', async function () {
    const h = await make('refused');
    const { outboxId } = await createRefund(h);
    const second = await createRefund(h);
    await h.queue.close(); // Redis unreachable / queue gone
    const smallBatches = new OutboxDispatcher({
      db: h.db,
      clock: h.clock,
      queue: h.queue,
      registry: h.registry,
      logger: createLogger('silent'),
      pollMs: 60_000,
      sweepSeconds: SWEEP_SECONDS,
      batchSize: 1,
    });
    assert.equal(await smallBatches.tick(), 0, 'a refused batch ends the round instead of claiming it again');
    assert.equal(await h.dispatcher.tick(), 0);
    for (const id of [outboxId, second.outboxId]) {
      const row = await getOutboxRow(h.db, id);
      assert.equal(row?.status, 'pending');
      assert.equal(row?.enqueuedAt, null);
    }

    const queue = createJobQueue(h.config, { db: h.db, clock: h.clock, registry: h.registry, logger: createLogger('silent') });
    try {
      const dispatcher = new OutboxDispatcher({
        db: h.db,
        clock: h.clock,
        queue,
        registry: h.registry,
        logger: createLogger('silent'),
        pollMs: 60_000,
        sweepSeconds: SWEEP_SECONDS,
      });
      await queue.startWorkers();
      assert.equal(await dispatcher.tick(), 2);
      await queue.drain();
      assert.equal(h.calls.length, 2);
      assert.equal((await getOutboxRow(h.db, outboxId))?.status, 'done');
    } finally {
      await queue.close();
    }
  });

  it('when a row names a job no process registers, then the dispatcher marks it failed instead of queueing it', async function () {
    const h = await make('unknown');
    const outboxId = await enqueueInTrx(h.db, { queue: 'deposits', name: 'no.such.job', payload: {}, runAt: START });
    assert.equal(await h.dispatcher.tick(), 0);
    const row = await getOutboxRow(h.db, outboxId);
    assert.equal(row?.status, 'failed');
    assert.match(row?.lastError ?? '', /no job named "no.such.job"/);
  });

  it('when asked, then the queue answers ping with ok', async function () {
    const h = await make('ping');
    assert.equal(await h.queue.ping(), 'ok');
  });
});

describe('jobs: outbox payloads', function () {
  it('when a payload carries a secret-looking field or is large, then enqueueInTrx refuses it', async function () {
    const { db } = await createMigratedDatabase('outbox_payload');
    try {
      const runAt = new Date();
      await assert.rejects(enqueueInTrx(db, { queue: 'q', name: 'n', payload: { bidId: 1, contentKey: 'AAAA' }, runAt }), /contentKey looks like a secret/);
      await assert.rejects(enqueueInTrx(db, { queue: 'q', name: 'n', payload: { custodian: { share: 'x' } }, runAt }), /custodian\.share/);
      await assert.rejects(enqueueInTrx(db, { queue: 'q', name: 'n', payload: { blob: 'x'.repeat(5000) }, runAt }), /pass ids only/);
      const id = await enqueueInTrx(db, { queue: 'q', name: 'n', payload: { tenderId: 3, keyId: 9, bidIds: [1, 2] }, runAt });
      assert.deepEqual((await getOutboxRow(db, id))?.payload, { tenderId: 3, keyId: 9, bidIds: [1, 2] });
    } finally {
      await db.destroy();
    }
  });
});
