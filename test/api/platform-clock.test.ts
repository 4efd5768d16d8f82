import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config';
import { ControllableClock, HOUR_MS } from '../../src/shared/clock';
import { startClockSync, type ClockSync } from '../../src/shared/clock-sync';
import { createEventBus, type EventBus } from '../../src/shared/events';
import { createTestApp, type TestApp } from '../support/app';
import { bearer, operatorToken } from '../support/factories';
import { usingRedis } from '../support/env';
import { pollUntil } from '../support/poll';

/**
 * One platform time for the deployment (CLOCK=controllable). The peer here stands for another API instance or a
 * worker: its own clock and its own event-bus connection on the app's prefix — over Redis pub/sub when REDIS_URL
 * is set, else the in-process bus (embedded mode is one process, so this checks the in-process behaviour).
 */
describe(`platform time shared by the deployment's processes (${usingRedis() ? 'Redis' : 'in-process'})`, () => {
  let t: TestApp;
  const peers: Array<{ bus: EventBus; sync: ClockSync }> = [];

  before(async () => {
    t = await createTestApp('platform-clock');
  });
  after(async () => {
    for (const p of peers) {
      await p.sync.close();
      await p.bus.close();
    }
    await t.close();
  });

  async function peer(): Promise<{ clock: ControllableClock; sync: ClockSync; bus: EventBus }> {
    const clock = new ControllableClock();
    const bus = createEventBus(t.ctx.config);
    const sync = await startClockSync(t.ctx.config, clock, bus);
    peers.push({ bus, sync });
    return { clock, sync, bus };
  }

  // a login each time: a move of days outlives the previous token
  const moveThroughRoute = async (at: Date) =>
    (await t.http.post('/api/v1/dev/clock').set(bearer(await operatorToken(t))).send({ at: at.toISOString() }).expect(200)).body;

  it('when time is moved through the route, then a process started later takes the stored setting', async () => {
    const at = new Date(t.clock.now().getTime() + 30 * 24 * HOUR_MS);
    const moved = await moveThroughRoute(at);
    assert.equal(moved.now, at.toISOString());
    assert.equal(t.clock.now().toISOString(), at.toISOString(), 'the instance that was asked moved');
    const late = await peer();
    assert.equal(late.clock.now().toISOString(), at.toISOString(), 'a frozen instant is taken as it is');
  });

  it('when time is moved on one instance, then every other process moves with it, and back', async () => {
    const other = await peer();
    const listened: Date[] = [];
    other.clock.onChange((now) => listened.push(now));
    const at = new Date(t.clock.now().getTime() + 2 * HOUR_MS);
    await moveThroughRoute(at);
    await pollUntil('the peer to take the move', () => other.clock.now().getTime() === at.getTime());
    assert.equal(listened.at(-1)?.toISOString(), at.toISOString(), 'its schedulers (the outbox dispatcher) are told');

    // a move made on the peer (another API instance's route) comes back to this one
    const back = new Date(at.getTime() + 5 * 60_000);
    other.clock.set(back);
    await other.sync.share();
    await pollUntil('the app to take the peer’s move', () => t.clock.now().getTime() === back.getTime());
    const shown = (await t.http.get('/api/v1/time').expect(200)).body;
    assert.equal(shown.now, back.toISOString());
  });

  it('when a stale or malformed setting arrives, then no clock goes back', async () => {
    const other = await peer();
    const now = t.clock.now().getTime();
    await other.bus.publish('platform-clock', { version: 1, offsetMs: 0, frozenAt: now - 10 * HOUR_MS });
    await other.bus.publish('platform-clock', { version: 10_000, offsetMs: 'x', frozenAt: 0 });
    // a fresh move after them is the one that counts: once it is seen, the earlier messages were handled
    const next = new Date(now + 60_000);
    await moveThroughRoute(next);
    await pollUntil('the peer to take the move', () => other.clock.now().getTime() === next.getTime());
    assert.equal(t.clock.now().getTime(), next.getTime());
  });

  it('when the run mode is production, then a shared controllable clock is refused as CLOCK=controllable is', async () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', CLOCK: 'controllable' }), /CLOCK=controllable is refused in production/);
    await assert.rejects(
      startClockSync({ ...t.ctx.config, env: 'production' }, new ControllableClock(), t.ctx.events),
      /refused in production/,
    );
  });
});
