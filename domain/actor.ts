/** Who did something: an admin (through GraphQL, the bot or the CLI), the policy server, or Sendguard itself. */
export interface Actor {
  kind: 'user' | 'system';
  /** Stable id: Entra object id, principal name, or `system:<component>`. */
  id: string;
  name: string;
  roles: string[];
  /** The path the action came through: graphql, bot, cli, policy, smtp, scheduler. */
  source: string;
}

export function systemActor(component: string): Actor {
  return { kind: 'system', id: `system:${component}`, name: `Sendguard ${component}`, roles: [], source: component };
}
