import { z } from 'zod';
import { ORG_TYPES, USER_ROLES } from '../shared/access';

const pem = (label: string) =>
  z
    .string()
    .max(16_384)
    .refine((s) => s.includes(`-----BEGIN ${label}-----`), { message: `应为 PEM 格式的 ${label} (expected a PEM ${label})` });

export const CertificatePem = pem('CERTIFICATE');
export const CsrPem = pem('CERTIFICATE REQUEST');

export const OrgIdParams = z.object({ orgId: z.uuid() });
export const SerialParams = z.object({ serial: z.string().regex(/^[0-9a-fA-F]{2,64}$/) });

export const CreateOrganisationBody = z.object({
  type: z.enum(ORG_TYPES),
  name: z.string().trim().min(2).max(200),
  creditCode: z.string().trim().length(18).meta({ description: '统一社会信用代码, 18 characters with check character' }),
  legalRepresentative: z.string().trim().min(1).max(50).optional(),
  basicAccountBank: z.string().trim().min(2).max(100).optional().meta({ description: '基本账户开户行 (TLR 26)' }),
  basicAccountNo: z.string().regex(/^\d{8,32}$/).optional().meta({ description: '基本账户账号 (TLR 26)' }),
  region: z.string().trim().max(100).optional(),
  contactPhone: z.string().regex(/^[0-9+\- ]{5,20}$/).optional(),
});

export const ListOrganisationsQuery = z.object({
  type: z.enum(ORG_TYPES).optional(),
  q: z.string().trim().max(100).optional(),
});

export const CreateUserBody = z.object({
  username: z.string().regex(/^[a-z0-9][a-z0-9._-]{2,39}$/, '3–40 个小写字母、数字或 ._- (lowercase letters, digits, ._-)'),
  displayName: z.string().trim().min(1).max(50),
  role: z.enum(USER_ROLES),
  phone: z.string().regex(/^[0-9+\- ]{5,20}$/).optional(),
  password: z.string().min(10).max(200).optional().meta({ description: 'operators only' }),
});

export const ChallengeResponse = z.object({ challengeId: z.uuid(), nonce: z.string(), expiresAt: z.iso.datetime() });

export const CertificateLoginBody = z.object({
  challengeId: z.uuid(),
  certificatePem: CertificatePem,
  signature: z.string().max(2048).meta({ description: 'base64 RSA-SHA256 signature over the nonce (openssl dgst -sha256 -sign)' }),
});

export const PasswordLoginBody = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(200),
});

export const IssueCertificateBody = z.object({
  csrPem: CsrPem,
  usage: z.enum(['signing', 'encryption']),
  userId: z.uuid().optional().meta({ description: 'operators only: issue for another user' }),
});

export const EnrolBody = z.object({
  username: z.string().min(1).max(100),
  enrolmentCode: z.string().min(8).max(100),
  signingCsrPem: CsrPem,
  encryptionCsrPem: CsrPem,
});

export const RevokeBody = z.object({
  reason: z.enum(['keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'lost']),
});

export const ListCertificatesQuery = z.object({
  userId: z.uuid().optional(),
  organisationId: z.uuid().optional(),
});
