/** decrypt — open an envelope with one's own encryption key. */
import path from 'node:path';
import type { Command } from 'commander';
import { decryptFile, EnvelopeError } from '../../../envelope';
import { PkiError } from '../../../pki';
import { CliExit, EXIT_BAD_INPUT, println, readTextFile, type CliContext } from '../../context';
import { formatSize } from '../package';
import { envelopeExit, reasonOf, refuseOverwrite, requireFile, sameFile } from './shared';

interface DecryptOptions {
  in: string;
  key: string;
  cert?: string;
  out: string;
  force?: boolean;
}

export function registerDecryptCommand(program: Command, ctx: CliContext): void {
  program
    .command('decrypt')
    .description('用本单位加密私钥解密数字信封 / Open an envelope with your encryption key')
    .requiredOption('--in <file>', '数字信封 (.cms) / envelope')
    .requiredOption('--key <file>', '加密私钥 (encryption.key.pem) / encryption private key')
    .option('--cert <file>', '加密证书，默认为私钥同目录的 encryption.cert.pem / encryption certificate (default: encryption.cert.pem beside the key)')
    .requiredOption('--out <file>', '解密后的文件 / output file')
    .option('--force', '覆盖已有的输出文件 / overwrite an existing output file', false)
    .action((opts: DecryptOptions) => decrypt(ctx, opts));
}

async function decrypt(ctx: CliContext, opts: DecryptOptions): Promise<void> {
  requireFile(opts.in, '数字信封', 'envelope');
  if (sameFile(opts.in, opts.out)) throw new CliExit(EXIT_BAD_INPUT, '--in 与 --out 不能是同一文件 / --in and --out must differ');
  refuseOverwrite(opts.out, opts.force);
  const certFile = opts.cert ?? path.join(path.dirname(opts.key), 'encryption.cert.pem');
  const privateKeyPem = readTextFile(opts.key, '私钥', 'private key');
  const certificatePem = readTextFile(certFile, '证书', 'certificate');
  let plaintextLength: number;
  try {
    ({ plaintextLength } = await decryptFile(opts.in, opts.out, { privateKeyPem, certificatePem }));
  } catch (e) {
    if (e instanceof EnvelopeError) throw envelopeExit(e, `解密失败，未写出文件 / Decryption failed, nothing written`);
    if (e instanceof PkiError) throw new CliExit(EXIT_BAD_INPUT, `私钥或证书无效 / Invalid key or certificate: ${e.message}`);
    throw new CliExit(EXIT_BAD_INPUT, `解密失败 / Decryption failed: ${reasonOf(e)}`);
  }
  println(ctx.stdout, `已解密，认证标签验证通过 / Decrypted, authentication tag verified: ${opts.out}`);
  println(ctx.stdout, `大小 / Size: ${formatSize(plaintextLength)}`);
}
