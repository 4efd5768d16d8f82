import assert from 'node:assert/strict';
import type { Config } from '../../src/config';
import { createEventBus, type EventBus } from '../../src/shared/events';
import { redisPrefix, testBaseConfig, usingRedis } from '../support/env';

function nextEvent(bus: EventBus, channel: string): Promise<{ event: Promise<object>; unsubscribe: () => Promise<void> }> {
  let resolve!: (e: object) => void;
  const event = new Promise<object>((r) => (resolve = r));
  return bus.subscribe(channel, (e) => resolve(e)).then((unsubscribe) => ({ event, unsubscribe }));
}

describe(`events: the live event bus (${usingRedis() ? 'Redis pub/sub' : 'in-process'})`, function () {
  let config: Config;
  let a: EventBus;
  let b: EventBus;

  before(function () {
    const base = testBaseConfig();
    config = { ...base, redis: { ...base.redis, prefix: redisPrefix('events') } };
  });
  beforeEach(function () {
    // Two buses: in Redis mode two pairs of connections, as two API instances would have.
    a = createEventBus(config);
    b = createEventBus(config);
  });
  afterEach(async function () {
    await Promise.all([a.close(), b.close()]);
  });

  it('when one instance publishes, then a subscriber on the other instance receives the event as JSON', async function () {
    const onB = await nextEvent(b, 'opening.42');
    const onA = await nextEvent(a, 'opening.42');
    await a.publish('opening.42', { type: 'state', state: 'decrypting', at: new Date('2026-11-23T09:30:00Z') });
    const expected = { type: 'state', state: 'decrypting', at: '2026-11-23T09:30:00.000Z' };
    assert.deepEqual(await onB.event, expected);
    assert.deepEqual(await onA.event, expected, 'the publishing instance sees its own event too');

    const back = await nextEvent(a, 'opening.42.reply');
    await b.publish('opening.42.reply', { type: 'objection', bidId: 7, text: '报价有误' });
    assert.deepEqual(await back.event, { type: 'objection', bidId: 7, text: '报价有误' });
  });

  it('when a listener unsubscribes, then it receives nothing more while other listeners still do', async function () {
    const dropped: object[] = [];
    const stop = await b.subscribe('opening.43', (e) => dropped.push(e));
    const kept: object[] = [];
    let sawBoth!: () => void;
    const both = new Promise<void>((r) => (sawBoth = r));
    await b.subscribe('opening.43', (e) => {
      kept.push(e);
      if (kept.length === 2) sawBoth();
    });
    const other = await nextEvent(a, 'opening.43');
    await stop();
    await stop(); // twice is harmless

    await a.publish('opening.43', { n: 1 });
    await a.publish('opening.43', { n: 2 });
    await both; // delivered in order on one connection: the dropped listener would have had them by now
    assert.deepEqual(kept, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(dropped, []);
    assert.deepEqual(await other.event, { n: 1 });
  });

  it('when a bus is closed, then the other bus still works and ping answers ok', async function () {
    assert.equal(await a.ping(), 'ok');
    await a.close();
    const self = await nextEvent(b, 'opening.44');
    await b.publish('opening.44', { alive: true });
    assert.deepEqual(await self.event, { alive: true });
    assert.equal(await b.ping(), 'ok');
  });

  it('when a channel name is not safe, then publish refuses it', async function () {
    await assert.rejects(a.publish('opening 1\r\n', {}), /invalid event channel/);
  });
});
