/** Whose account a sign-in names, as the login-failures rule needs it: organisation, its type, whether it holds keys. */
import type { Runner } from '../../db';

export interface AccountOwner {
  orgId: string;
  orgType: string;
  /** The organisation holds an opening-key share of some tender (a custodian). */
  custodian: boolean;
}

export const accountsRepository = {
  /** The owners of these usernames and certificate serials; unknown names are absent from the maps. */
  async owners(db: Runner, who: { usernames: string[]; serials: string[] }): Promise<{ byUsername: Map<string, AccountOwner>; bySerial: Map<string, AccountOwner> }> {
    const custodian = db.raw('EXISTS (SELECT 1 FROM tender_custodians tc WHERE tc.organisation_id = o.id) AS custodian');
    const users = who.usernames.length
      ? await db('users as u').join('organisations as o', 'o.id', 'u.organisation_id').whereIn('u.username', who.usernames).select('u.username', 'o.id as org_id', 'o.type as org_type', custodian)
      : [];
    const certs = who.serials.length
      ? await db('certificates as c').join('organisations as o', 'o.id', 'c.organisation_id').whereIn('c.serial_hex', who.serials).select('c.serial_hex', 'o.id as org_id', 'o.type as org_type', custodian)
      : [];
    const owner = (r: Record<string, unknown>): AccountOwner => ({ orgId: r.org_id as string, orgType: r.org_type as string, custodian: r.custodian === true || r.custodian === 't' });
    return {
      byUsername: new Map(users.map((r) => [r.username as string, owner(r)])),
      bySerial: new Map(certs.map((r) => [r.serial_hex as string, owner(r)])),
    };
  },
};
