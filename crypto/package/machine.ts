/**
 * The machine code (机器码) and the tool serial (投标工具序列号) a package
 * carries. Local rules treat the same machine code or tool serial in bids of
 * different bidders as evidence of collusion (TLR 40(1): bids compiled by the
 * same unit or person), so both must be stable for one machine/installation.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** bidtool's version, written into manifests packBid makes without an explicit `tool`. */
export const BIDTOOL_VERSION = '0.1.0';

export interface MachineFacts {
  hostname: string;
  /** MAC addresses of non-internal interfaces, lowercase, unique, sorted. */
  macs: string[];
  cpuModel: string;
  platform: string;
}

export function machineFacts(): MachineFacts {
  const macs = new Set<string>();
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal || !a.mac || a.mac === '00:00:00:00:00:00') continue;
      macs.add(a.mac.toLowerCase());
    }
  }
  return {
    hostname: os.hostname(),
    macs: [...macs].sort(),
    cpuModel: (os.cpus()[0]?.model ?? '').trim(),
    platform: os.platform(),
  };
}

/** SHA-256 (hex) over the facts in a fixed order, with a domain prefix so it matches no other hash. */
export function fingerprintOf(facts: MachineFacts): string {
  const canonical = JSON.stringify([facts.hostname, [...facts.macs].sort(), facts.cpuModel, facts.platform]);
  return createHash('sha256').update('bidtool-machine-fingerprint-v1\n').update(canonical).digest('hex');
}

/** 机器码 of this machine. */
export function machineFingerprint(): string {
  return fingerprintOf(machineFacts());
}

// ---------------------------------------------------------------------------
// Tool serial

const SERIAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{3,127}$/;

/** ~/.bidtool/serial */
export function defaultToolSerialPath(): string {
  return path.join(os.homedir(), '.bidtool', 'serial');
}

/** "BT-" and 32 random hex digits in groups of 8. */
export function newToolSerial(): string {
  const hex = randomBytes(16).toString('hex').toUpperCase();
  return `BT-${hex.match(/.{8}/g)!.join('-')}`;
}

export function isValidToolSerial(serial: string): boolean {
  return SERIAL_PATTERN.test(serial);
}

/**
 * Reads this installation's serial from `file`, creating it with a random
 * serial on first use. A file with something unreadable in it is an error,
 * not silently replaced: the serial identifies the installation.
 */
export function loadOrCreateToolSerial(file: string = defaultToolSerialPath()): string {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const serial = fs.readFileSync(file, 'utf8').trim();
      if (!isValidToolSerial(serial)) {
        throw new Error(`工具序列号文件内容无效 / Tool serial file holds no valid serial: ${file}`);
      }
      return serial;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      // 'wx': if another bidtool created it meanwhile, read theirs on the next pass.
      fs.writeFileSync(file, newToolSerial() + '\n', { flag: 'wx', mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`无法创建工具序列号文件 / Cannot create the tool serial file: ${file}`);
}
