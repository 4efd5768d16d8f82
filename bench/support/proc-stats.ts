/**
 * What Linux says about another process: resident memory from /proc/<pid>/status and CPU time from /proc/<pid>/stat.
 * Reads are synchronous: these files are tiny and answered from kernel memory.
 */
import fs from 'node:fs';

/** A `Vm*` field of /proc/<pid>/status in KiB, or null when the process or the field is gone. */
export function readVmKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS by writing 5 to /proc/<pid>/clear_refs (Linux ≥ 4.0, own
 * processes only). True when it worked, so VmHWM afterwards is the exact peak since this call.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Clock ticks per second of utime/stime in /proc/<pid>/stat: USER_HZ, 100 on every mainstream Linux ABI. */
const USER_HZ = 100;

/** User + system CPU seconds of all threads of the process so far, or null when it is gone. */
export function readCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name (field 2) may contain spaces and parentheses: split after its closing ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** Polls VmRSS every `intervalMs` and keeps the maximum. */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  maxKiB = 0;
  samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 20,
  ) {}

  private sample(): void {
    const kib = readVmKiB(this.pid, 'VmRSS');
    if (kib === null) return;
    this.samples++;
    if (kib > this.maxKiB) this.maxKiB = kib;
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }
}

/** Jiffies of the whole machine from /proc/stat: busy (everything but idle and iowait) and total. */
export function readMachineCpu(): { busy: number; total: number } | null {
  let text: string;
  try {
    text = fs.readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n', 1)[0]!;
  if (!line.startsWith('cpu ')) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}
