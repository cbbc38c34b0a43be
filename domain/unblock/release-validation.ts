import { ValidationError } from '../restrictions/errors.ts';
import { recommendationKinds } from '../restrictions/recommendations.ts';

const MAX_REASON = 1000;

/** What a release request must satisfy before anything is looked up; the CLI's `--what-if` checks it too. */
export function releaseInputError(input: { reason: string; acknowledgedRecommendations: readonly string[] }): ValidationError | undefined {
  if (input.reason.length > MAX_REASON) return new ValidationError('reason', `reason must be at most ${MAX_REASON} characters`);
  const unknown = input.acknowledgedRecommendations.find((k) => !(recommendationKinds as readonly string[]).includes(k));
  if (unknown) return new ValidationError('acknowledgedRecommendations', `unknown recommendation ${unknown}`);
  return undefined;
}
