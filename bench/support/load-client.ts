/**
 * autocannon in a process of its own (spawned by bench/api-load.bench.ts), so the load generator's CPU is not the
 * benchmark's or the server's. Reads its task as JSON from LOAD_TASK, runs autocannon at a fixed overall rate and
 * prints autocannon's result as ONE JSON line on stdout.
 *
 * LOAD_TASK: { url, token, paths, rate, durationSeconds, connections }. Every request takes the next of `paths` at
 * random (autocannon's setupRequest), so listing and detail pages of random tenders interleave.
 */
import autocannon from 'autocannon';

interface LoadTask {
  url: string;
  token: string;
  paths: string[];
  rate: number;
  durationSeconds: number;
  connections: number;
}

const task = JSON.parse(process.env.LOAD_TASK ?? '') as LoadTask;
const result = await autocannon({
  url: task.url,
  connections: task.connections,
  overallRate: task.rate,
  duration: task.durationSeconds,
  headers: { Authorization: `Bearer ${task.token}` },
  requests: [
    {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: task.paths[Math.floor(Math.random() * task.paths.length)]! }),
    },
  ],
});
process.stdout.write(`${JSON.stringify(result)}\n`);
