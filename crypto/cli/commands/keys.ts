/** Key commands: keygen (key pair + CSR), sign-challenge (login challenge). */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { createCsr, generateRsaKeyPair, PkiError, signChallenge, type SubjectFields } from '../../pki';
import { CliExit, EXIT_BAD_INPUT, println, readTextFile, writeNewFile, writeSecretFile, type CliContext } from '../context';

export const KEYGEN_USAGES = ['signing', 'encryption'] as const;
export type KeygenUsage = (typeof KEYGEN_USAGES)[number];

interface KeygenOptions {
  out: string;
  cn: string;
  org?: string;
  ou?: string;
  country?: string;
  creditCode?: string;
  usage: KeygenUsage;
  force?: boolean;
}

export function keygenPaths(dir: string, usage: KeygenUsage): { keyPath: string; csrPath: string } {
  return { keyPath: path.join(dir, `${usage}.key.pem`), csrPath: path.join(dir, `${usage}.csr.pem`) };
}

export function registerKeyCommands(program: Command, ctx: CliContext): void {
  program
    .command('keygen')
    .description('生成密钥对和证书请求 (CSR) / Generate a key pair and a certificate signing request')
    .requiredOption('--out <dir>', '输出目录 / output directory')
    .requiredOption('--cn <name>', '证书持有人名称 (CN) / common name')
    .option('--org <org>', '单位名称 (O) / organization name')
    .option('--ou <unit>', '部门 (OU) / organizational unit')
    .option('--country <code>', '国家代码 (C)，如 CN / two-letter country code, e.g. CN')
    .option('--credit-code <code>', '统一社会信用代码 (serialNumber) / unified social credit code')
    .addOption(
      new Option('--usage <usage>', '密钥用途 / key usage').choices([...KEYGEN_USAGES]).default('signing'),
    )
    .option('--force', '覆盖已有文件 / overwrite existing files', false)
    .action((opts: KeygenOptions) => {
      const subject: SubjectFields = { commonName: opts.cn };
      if (opts.org) subject.organizationName = opts.org;
      if (opts.ou) subject.organizationalUnitName = opts.ou;
      if (opts.country) subject.countryName = opts.country.toUpperCase();
      if (opts.creditCode) subject.serialNumber = opts.creditCode;

      const keys = generateRsaKeyPair();
      let csrPem: string;
      try {
        csrPem = createCsr(keys, subject);
      } catch (e) {
        if (e instanceof RangeError || e instanceof PkiError) {
          throw new CliExit(EXIT_BAD_INPUT, `证书请求参数无效 / Invalid CSR subject: ${e.message}`);
        }
        throw e;
      }
      const { keyPath, csrPath } = keygenPaths(opts.out, opts.usage);
      const force = opts.force === true;
      // Check both before writing either, so a refusal leaves nothing half-done.
      if (!force) {
        for (const f of [keyPath, csrPath]) writeGuard(f);
      }
      writeSecretFile(keyPath, keys.privateKeyPem, force);
      writeNewFile(csrPath, csrPem, force);

      println(ctx.stdout, `私钥 / Private key: ${keyPath}`);
      println(ctx.stdout, `证书请求 / CSR: ${csrPath}`);
      println(ctx.stdout, '请妥善保管私钥，切勿发送给任何人；将证书请求提交给平台以签发证书。');
      println(ctx.stdout, 'Keep the private key safe and never send it to anyone; submit the CSR to the platform to get a certificate.');
    });

  program
    .command('sign-challenge')
    .description('对登录挑战签名（输出 Base64）/ Sign a login challenge (prints base64)')
    .requiredOption('--key <file>', '私钥文件 / private key file (PEM)')
    .requiredOption('--nonce <string>', '平台下发的挑战串 / challenge string from the platform')
    .action((opts: { key: string; nonce: string }) => {
      const keyPem = readTextFile(opts.key, '私钥', 'private key');
      let signature: string;
      try {
        signature = signChallenge(keyPem, opts.nonce);
      } catch (e) {
        if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥无效 / Invalid private key: ${e.message}`);
        throw e;
      }
      println(ctx.stdout, signature);
    });
}

function writeGuard(file: string): void {
  if (fs.existsSync(file)) {
    throw new CliExit(EXIT_BAD_INPUT, `文件已存在，未覆盖（可用 --force）/ File exists, not overwritten (use --force): ${file}`);
  }
}
