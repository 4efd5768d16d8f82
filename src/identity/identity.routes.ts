import type { RouteTable } from '../shared/http/route';
import type { AuthService } from './auth.service';
import type { CertificateService } from './certificates.service';
import type { IdentityService } from './identity.service';
import * as s from './identity.schemas';

export function identityRoutes(
  routes: RouteTable,
  svc: { identity: IdentityService; auth: AuthService; certificates: CertificateService },
): void {
  const tag = 'identity';

  routes.add({
    method: 'get', path: '/pki/ca-certificate', tag, access: 'public', produces: 'application/x-pem-file',
    summary: '平台根证书 (the platform CA certificate, PEM)',
    handler: async ({ res }) => {
      res.type('application/x-pem-file').send(svc.certificates.caCertificatePem());
    },
  });
  routes.add({
    method: 'get', path: '/pki/tsa-certificate', tag, access: 'public', produces: 'application/x-pem-file',
    summary: '时间戳服务证书 (the TSA certificate, PEM)',
    handler: async ({ res }) => {
      res.type('application/x-pem-file').send(svc.certificates.tsaCertificatePem());
    },
  });
  routes.add({
    method: 'post', path: '/auth/challenge', tag, access: 'public', response: s.ChallengeResponse,
    summary: '获取证书登录挑战 (get a nonce to sign with the certificate key)',
    handler: () => svc.auth.createChallenge(),
  });
  routes.add({
    method: 'post', path: '/auth/certificate-login', tag, access: 'public', body: s.CertificateLoginBody, status: 200,
    summary: '数字证书登录 (log in by signing the challenge)',
    handler: ({ ctx, body }) => svc.auth.loginWithCertificate(ctx, body),
  });
  routes.add({
    method: 'post', path: '/auth/password-login', tag, access: 'public', body: s.PasswordLoginBody, status: 200,
    summary: '运维人员密码登录 (operators only)',
    handler: ({ ctx, body }) => svc.auth.loginWithPassword(ctx, body),
  });
  routes.add({
    method: 'post', path: '/auth/renew', tag, access: 'authenticated', status: 200,
    summary: '续期登录令牌（自登录起不超过 SESSION_MAX_HOURS） (a fresh token for a live session, within SESSION_MAX_HOURS of the login)',
    handler: ({ ctx }) => svc.auth.renew(ctx),
  });
  routes.add({
    method: 'post', path: '/auth/logout', tag, access: 'authenticated', status: 204,
    summary: '退出登录，令牌立即失效 (revoke this token)',
    handler: async ({ ctx, req }) => {
      await svc.auth.logout(ctx, req.get('authorization')!.slice('Bearer '.length));
    },
  });
  routes.add({
    method: 'get', path: '/me', tag, access: 'authenticated',
    summary: '当前用户与单位 (who am I)',
    handler: ({ ctx }) => svc.identity.me(ctx),
  });

  routes.add({
    method: 'post', path: '/organisations', tag, access: ['operator'], body: s.CreateOrganisationBody,
    summary: '登记单位 (register an organisation)',
    handler: ({ ctx, body }) => svc.identity.createOrganisation(ctx, body),
  });
  routes.add({
    method: 'get', path: '/organisations', tag, access: 'authenticated', query: s.ListOrganisationsQuery,
    summary: '单位目录 (directory; private fields only for your own)',
    handler: ({ ctx, query }) => svc.identity.listOrganisations(ctx, query),
  });
  routes.add({
    method: 'get', path: '/organisations/:orgId', tag, access: 'authenticated', params: s.OrgIdParams,
    summary: '单位详情 (organisation)',
    handler: ({ ctx, params }) => svc.identity.getOrganisation(ctx, params.orgId),
  });
  routes.add({
    method: 'post', path: '/organisations/:orgId/users', tag, access: 'authenticated', params: s.OrgIdParams, body: s.CreateUserBody,
    summary: '新增用户，返回一次性证书注册码 (add a user; returns a one-time enrolment code)',
    handler: ({ ctx, params, body }) => svc.identity.createUser(ctx, params.orgId, body),
  });
  routes.add({
    method: 'get', path: '/organisations/:orgId/users', tag, access: 'authenticated', params: s.OrgIdParams,
    summary: '单位用户 (users of an organisation)',
    handler: ({ ctx, params }) => svc.identity.listUsers(ctx, params.orgId),
  });

  routes.add({
    method: 'post', path: '/certificates/enrol', tag, access: 'public', body: s.EnrolBody,
    summary: '凭注册码申领签名与加密证书 (enrol: first signing and encryption certificates)',
    handler: ({ ctx, body }) => svc.certificates.enrol(ctx, body),
  });
  routes.add({
    method: 'post', path: '/certificates', tag, access: 'authenticated', body: s.IssueCertificateBody,
    summary: '申请证书 (issue a certificate from a CSR)',
    handler: ({ ctx, body }) => svc.certificates.issue(ctx, body),
  });
  routes.add({
    method: 'get', path: '/certificates', tag, access: 'authenticated', query: s.ListCertificatesQuery,
    summary: '证书列表 (certificates you may see)',
    handler: ({ ctx, query }) => svc.certificates.list(ctx, query),
  });
  routes.add({
    method: 'get', path: '/certificates/:serial', tag, access: 'authenticated', params: s.SerialParams,
    summary: '证书详情 (certificate)',
    handler: ({ ctx, params }) => svc.certificates.get(ctx, params.serial),
  });
  routes.add({
    method: 'post', path: '/certificates/:serial/revoke', tag, access: 'authenticated', params: s.SerialParams, body: s.RevokeBody,
    status: 200,
    summary: '吊销证书 (revoke)',
    handler: ({ ctx, params, body }) => svc.certificates.revoke(ctx, params.serial, body.reason),
  });
}
