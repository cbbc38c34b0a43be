/** The parts `sendguard serve --only` can run, each as its own process on one database. */
export const roles = ['api', 'bot', 'policy', 'smtp'] as const;
export type Role = (typeof roles)[number];
