import type { Viewer } from '../auth/viewer.ts';
import { builder } from '../builder.ts';
import { RoleEnum, ScopeEnum } from './role-assignment.ts';

export const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'Who is calling: tenant (from the token only), roles and what they allow.',
  fields: (t) => ({
    principalId: t.exposeString('principalId'),
    name: t.exposeString('name'),
    tenantId: t.exposeString('tenantId'),
    roles: t.field({ type: [RoleEnum], description: 'From token claims and role assignments stored here.', resolve: (v) => v.roles }),
    scopes: t.field({ type: [ScopeEnum], resolve: (v) => v.scopes }),
    actingThrough: t.exposeString('actingThrough', { nullable: true, description: 'The bot principal, when the bot acts for this admin.' }),
    tokenExpiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({ type: ViewerRef, authScopes: { authenticated: true }, resolve: (_root, _args, { viewer }) => viewer }),
);
