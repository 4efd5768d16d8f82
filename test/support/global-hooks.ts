import { dropCreatedDatabases } from './env';

// Root hook: drop the databases this run created, so CI leaves the server as it found it.
after(async function () {
  this.timeout(60_000);
  await dropCreatedDatabases();
});
