import { dropCreatedDatabases, runId, testBaseConfig } from './env';

/** Removes this run's Redis keys (queues and their job records), so runs leave the shared Redis as they found it. */
async function deleteRunKeys(): Promise<void> {
  const url = testBaseConfig().redis.url;
  if (!url) return;
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `gztest:${runId}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// Root hook: drop the databases and Redis keys this run created, so CI leaves the services as it found them.
after(async function () {
  this.timeout(60_000);
  await dropCreatedDatabases();
  await deleteRunKeys();
});
