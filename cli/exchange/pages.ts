import { z } from 'zod';

/** A Relay connection as the CLI reads it. */
export function pageOf<T extends z.ZodType>(node: T) {
  return z.object({
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
    edges: z.array(z.object({ node })),
  });
}

const MAX_PAGES = 10_000;

/** Follows `after` cursors until the last page, like Exchange cmdlets return every item (`-ResultSize Unlimited`). */
export async function fetchAllPages<T>(
  fetchPage: (after: string | null) => Promise<{ pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: T }[] }>,
  limit = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const nodes: T[] = [];
  let after: string | null = null;
  for (let i = 0; i < MAX_PAGES && nodes.length < limit; i++) {
    const page = await fetchPage(after);
    nodes.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
    after = page.pageInfo.endCursor;
  }
  return nodes.slice(0, limit);
}
