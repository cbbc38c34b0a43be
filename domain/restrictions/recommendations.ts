/** What an admin should do before releasing a possibly compromised sender (the reference's guidance, extended). */
export const recommendationKinds = ['ENABLE_MFA', 'RESET_PASSWORD', 'REVOKE_SESSIONS', 'REMOVE_FORWARDING_AND_INBOX_RULES', 'REVIEW_SIGN_INS'] as const;
export type RecommendationKind = (typeof recommendationKinds)[number];

export interface Recommendation {
  kind: RecommendationKind;
  title: string;
  description: string;
  required: boolean;
  learnMoreUrl: string;
}

export const recommendations: readonly Recommendation[] = [
  {
    kind: 'ENABLE_MFA',
    title: 'Enable multi-factor authentication',
    description: 'Require a second factor so a stolen password alone cannot send mail.',
    required: true,
    learnMoreUrl: 'https://learn.microsoft.com/entra/identity/authentication/tutorial-enable-azure-mfa',
  },
  {
    kind: 'RESET_PASSWORD',
    title: 'Reset the password',
    description: "Change the user's password; the old one may be known to an attacker.",
    required: true,
    learnMoreUrl: 'https://learn.microsoft.com/microsoft-365/admin/add-users/reset-passwords',
  },
  {
    kind: 'REVOKE_SESSIONS',
    title: 'Revoke active sessions',
    description: 'Sign the user out everywhere so existing tokens stop working.',
    required: false,
    learnMoreUrl: 'https://learn.microsoft.com/entra/identity/users/users-revoke-access',
  },
  {
    kind: 'REMOVE_FORWARDING_AND_INBOX_RULES',
    title: 'Remove suspicious forwarding and inbox rules',
    description: 'Attackers often forward mail out or hide replies with inbox rules.',
    required: false,
    learnMoreUrl: 'https://learn.microsoft.com/defender-office-365/responding-to-a-compromised-email-account',
  },
  {
    kind: 'REVIEW_SIGN_INS',
    title: 'Review recent sign-ins',
    description: 'Look for sign-ins from unfamiliar places or devices.',
    required: false,
    learnMoreUrl: 'https://learn.microsoft.com/entra/identity/monitoring-health/concept-sign-ins',
  },
];

export function missingRequiredRecommendations(acknowledged: readonly string[]): RecommendationKind[] {
  return recommendations.filter((r) => r.required && !acknowledged.includes(r.kind)).map((r) => r.kind);
}
