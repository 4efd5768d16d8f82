/**
 * First start: the trading centre's operator organisation and its `admin` user, so a fresh install can be
 * administered at once. The password comes from ADMIN_PASSWORD or is generated and shown once.
 */
import { systemContext } from '../shared/access';
import type { Logger } from '../shared/logger';
import type { Db } from '../db';
import { withCheckChar } from './credit-code';
import { identityRepository as repo } from './identity.repository';
import type { IdentityService } from './identity.service';
import type { AuditService } from '../monitoring/audit.service';
import { randomCode } from './password';

export async function ensureOperator(
  db: Db,
  identity: IdentityService,
  audit: AuditService,
  opts: { platformName: string; adminPassword?: string; logger: Logger; announce: (text: string) => void },
): Promise<void> {
  if ((await repo.countOrganisations(db, 'operator')) > 0) return;
  const ctx = systemContext('bootstrap');
  const org = await db.transaction(async (trx) => {
    const created = await repo.insertOrganisation(
      trx,
      {
        type: 'operator',
        name: opts.platformName,
        creditCode: withCheckChar('12100000MB0000001'),
        legalRepresentative: null,
        basicAccountBank: null,
        basicAccountNo: null,
        region: null,
        contactPhone: null,
      },
      () => new Error('operator organisation already exists'),
    );
    await audit.append(trx, ctx, {
      action: 'organisation.create',
      objectType: 'organisation',
      objectId: created.id,
      payload: { type: created.type, name: created.name, bootstrap: true },
    });
    return created;
  });
  const password = opts.adminPassword ?? randomCode(12);
  await identity.addUser(ctx, org, { username: 'admin', displayName: '系统管理员', role: 'admin', password });
  if (!opts.adminPassword) {
    opts.announce(`首次启动：已创建交易中心管理员 admin，初始密码 ${password}（仅显示一次） / first start: operator "admin" created, password shown once above`);
  }
  opts.logger.info({ organisationId: org.id }, 'bootstrap operator created');
}
