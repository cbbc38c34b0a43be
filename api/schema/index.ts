import { builder } from '../builder.ts';
import './scalars.ts';
import './connection.ts';
import './errors.ts';
import './viewer.ts';
import './role-assignment.ts';
import './relay-credential.ts';
import './recommendation.ts';
import './release.ts';
import './restricted-user.ts';
import './unblock-user.ts';
import './unblock-quota.ts';
import './restrict-user.ts';
import './restricted-connector.ts';
import './outbound-spam-policy.ts';
import './outbound-spam-rule.ts';
import './tenant.ts';
import './restriction-event.ts';
import './sender-activity.ts';
import './alert-policy.ts';
import './alert.ts';
import './audit-log.ts';

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = builder.toSchema({ sortSchema: true });
