import { recommendationKinds, type Recommendation } from '../../domain/restrictions/recommendations.ts';
import { builder } from '../builder.ts';

export const RecommendationKindEnum = builder.enumType('RecommendationKind', {
  description: 'A step to take before releasing a possibly compromised sender.',
  values: recommendationKinds,
});

export const RecommendationRef = builder.objectRef<Recommendation>('Recommendation').implement({
  description: 'What to do before a release, and why.',
  fields: (t) => ({
    kind: t.field({ type: RecommendationKindEnum, resolve: (r) => r.kind }),
    title: t.exposeString('title'),
    description: t.exposeString('description'),
    required: t.exposeBoolean('required', { description: 'The Teams bot asks for this step to be confirmed; the API records whatever was acknowledged.' }),
    learnMoreUrl: t.exposeString('learnMoreUrl'),
  }),
});
