/** What a role lets its holder do (DESIGN §6); default deny. */
export const scopes = ['read', 'manage', 'manageRoles'] as const;
export type Scope = (typeof scopes)[number];

/** How the API refuses a field to a caller whose roles lack `needed` (the CLI's `--what-if` says the same). */
export const scopeRefusal = (field: string, needed: string) => `Forbidden: ${field} needs the ${needed} scope, which your roles do not grant`;

export interface RoleDefinition {
  name: string;
  scopes: readonly Scope[];
  /** Other spellings accepted in token claims and group names. */
  aliases: readonly string[];
  /** Entra ID directory role template id, carried in the `wids` claim. */
  entraTemplateId?: string;
}

export const roleCatalog = [
  {
    name: 'Global Administrator',
    scopes: ['read', 'manage', 'manageRoles'],
    aliases: ['Company Administrator'],
    entraTemplateId: '62e90394-69f5-4237-9190-012177145e10',
  },
  { name: 'Organization Management', scopes: ['read', 'manage', 'manageRoles'], aliases: [] },
  { name: 'Security Administrator', scopes: ['read', 'manage'], aliases: [], entraTemplateId: '194ae4cb-b126-40b2-bd5b-6091b380977d' },
  { name: 'Defender configuration/security (manage)', scopes: ['read', 'manage'], aliases: ['configuration/security (manage)'] },
  { name: 'Global Reader', scopes: ['read'], aliases: [], entraTemplateId: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451' },
  { name: 'Security Reader', scopes: ['read'], aliases: [], entraTemplateId: '5d6b6bb7-de71-4623-b4af-96380a352509' },
  { name: 'View-Only Organization Management', scopes: ['read'], aliases: [] },
  { name: 'Defender configuration/security (read)', scopes: ['read'], aliases: ['configuration/security (read)'] },
] as const satisfies readonly RoleDefinition[];

export type RoleName = (typeof roleCatalog)[number]['name'];
export const roleNames = roleCatalog.map((r) => r.name) as RoleName[];

/** `Security Administrator`, `SecurityAdministrator` and `security-administrator` are one role. */
function normalize(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const byNormalizedName = new Map<string, RoleName>(
  roleCatalog.flatMap((r) => [r.name, ...r.aliases].map((n) => [normalize(n), r.name] as [string, RoleName])),
);
const byTemplateId = new Map<string, RoleName>(
  roleCatalog.flatMap((r) => ('entraTemplateId' in r ? [[r.entraTemplateId, r.name] as [string, RoleName]] : [])),
);

/** The catalog role a claim value, group name or stored assignment names, if any. */
export function recognizeRole(value: string): RoleName | undefined {
  return byNormalizedName.get(normalize(value));
}

export function roleForEntraTemplateId(id: string): RoleName | undefined {
  return byTemplateId.get(id.toLowerCase());
}

/** Scopes granted by any of the roles, in catalog order. */
export function scopesOf(roles: readonly RoleName[]): Scope[] {
  const granted = new Set(roleCatalog.filter((r) => roles.includes(r.name)).flatMap((r) => r.scopes));
  return scopes.filter((s) => granted.has(s));
}
