/** Organisations and their users. The trading centre's operators register organisations (主体注册). */
import type { Db } from '../db';
import type { Clock } from '../shared/clock';
import { DAY_MS } from '../shared/clock';
import { requireActor, requireAdmin, seesEverything, type ActionContext, type Actor, type OrgType, type UserRole } from '../shared/access';
import { NotFound } from '../shared/errors';
import type { AuditService } from '../monitoring/audit.service';
import { isValidCreditCode } from './credit-code';
import { CreditCodeInvalid, OrganisationExists, UsernameTaken } from './identity.errors';
import { identityRepository as repo, publicUser, type Organisation, type User } from './identity.repository';
import { hashSecret, randomCode } from './password';

export interface NewOrganisation {
  type: OrgType;
  name: string;
  creditCode: string;
  legalRepresentative?: string | null;
  basicAccountBank?: string | null;
  basicAccountNo?: string | null;
  region?: string | null;
  contactPhone?: string | null;
}

export interface NewUser {
  username: string;
  displayName: string;
  role: UserRole;
  phone?: string | null;
  /** Only an operator organisation's users may have a password; everyone else logs in by certificate. */
  password?: string;
}

/** What anyone signed in may see of an organisation (the public subject directory, 主体库). */
export type PublicOrganisation = Pick<Organisation, 'id' | 'type' | 'name' | 'creditCode' | 'region' | 'status'>;

export const ENROLMENT_DAYS = 7;

export class IdentityService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {}

  async createOrganisation(ctx: ActionContext, input: NewOrganisation): Promise<Organisation> {
    requireActor(ctx, 'operator');
    if (!isValidCreditCode(input.creditCode)) throw CreditCodeInvalid({ creditCode: input.creditCode });
    return this.db.transaction(async (trx) => {
      const org = await repo.insertOrganisation(
        trx,
        {
          type: input.type,
          name: input.name,
          creditCode: input.creditCode,
          legalRepresentative: input.legalRepresentative ?? null,
          basicAccountBank: input.basicAccountBank ?? null,
          basicAccountNo: input.basicAccountNo ?? null,
          region: input.region ?? null,
          contactPhone: input.contactPhone ?? null,
        },
        () => OrganisationExists(),
      );
      await this.audit.append(trx, ctx, {
        action: 'organisation.create',
        objectType: 'organisation',
        objectId: org.id,
        payload: { type: org.type, name: org.name, creditCode: org.creditCode },
      });
      return org;
    });
  }

  private canSeePrivate(actor: Actor, orgId: string): boolean {
    return seesEverything(actor) || actor.orgId === orgId;
  }

  view(actor: Actor, org: Organisation): Organisation | PublicOrganisation {
    if (this.canSeePrivate(actor, org.id)) return org;
    const { id, type, name, creditCode, region, status } = org;
    return { id, type, name, creditCode, region, status };
  }

  async listOrganisations(ctx: ActionContext, filter: { type?: OrgType; q?: string }) {
    const actor = requireActor(ctx);
    const orgs = await repo.listOrganisations(this.db, filter);
    return orgs.map((o) => this.view(actor, o));
  }

  async getOrganisation(ctx: ActionContext, id: string) {
    const actor = requireActor(ctx);
    const org = await repo.findOrganisation(this.db, id);
    if (!org) throw NotFound({ resource: '单位' });
    return this.view(actor, org);
  }

  /** Operators add users to any organisation; an organisation's admin adds users to its own. */
  async createUser(ctx: ActionContext, organisationId: string, input: NewUser): Promise<{ user: User; enrolmentCode: string | null }> {
    const actor = requireActor(ctx);
    if (actor.orgType !== 'operator') {
      if (actor.orgId !== organisationId) throw NotFound({ resource: '单位' });
      requireAdmin(actor);
    }
    const org = await repo.findOrganisation(this.db, organisationId);
    if (!org) throw NotFound({ resource: '单位' });
    return this.addUser(ctx, org, input);
  }

  /** Shared by the API and the start-up bootstrap of the first operator. */
  async addUser(ctx: ActionContext, org: Organisation, input: NewUser): Promise<{ user: User; enrolmentCode: string | null }> {
    const passwordHash = input.password && org.type === 'operator' ? await hashSecret(input.password) : null;
    // Certificate users get a one-time enrolment code to request their first certificates with.
    const enrolmentCode = org.type === 'operator' && passwordHash ? null : randomCode();
    const enrolmentCodeHash = enrolmentCode ? await hashSecret(enrolmentCode) : null;
    return this.db.transaction(async (trx) => {
      const user = await repo.insertUser(
        trx,
        {
          organisationId: org.id,
          username: input.username,
          displayName: input.displayName,
          role: input.role,
          phone: input.phone ?? null,
          passwordHash,
          enrolmentCodeHash,
          enrolmentExpiresAt: enrolmentCode ? new Date(this.clock.now().getTime() + ENROLMENT_DAYS * DAY_MS) : null,
        },
        () => UsernameTaken(),
      );
      await this.audit.append(trx, ctx, {
        action: 'user.create',
        objectType: 'user',
        objectId: user.id,
        payload: { organisationId: org.id, username: user.username, role: user.role, passwordSet: Boolean(passwordHash) },
      });
      return { user: publicUser(user), enrolmentCode };
    });
  }

  async listUsers(ctx: ActionContext, organisationId: string): Promise<User[]> {
    const actor = requireActor(ctx);
    if (!this.canSeePrivate(actor, organisationId)) throw NotFound({ resource: '单位' });
    if (!(await repo.findOrganisation(this.db, organisationId))) throw NotFound({ resource: '单位' });
    return repo.listUsers(this.db, organisationId);
  }

  async me(ctx: ActionContext) {
    const actor = requireActor(ctx);
    const membership = await repo.findActiveMembership(this.db, actor.userId);
    if (!membership) throw NotFound({ resource: '用户' });
    return { user: membership.user, organisation: membership.org, certSerial: actor.certSerial };
  }
}
