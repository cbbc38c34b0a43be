import { builder } from '../builder.ts';

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'How many items match, across all pages.', resolve: (connection) => connection.totalCount }),
);

export interface Page<T> {
  nodes: T[];
  /** A node's cursor; encoded only for the edges and page-info fields a query selects. */
  cursorOf(node: T): string;
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/**
 * A domain page (keyset cursors) as a Relay connection. Cursors are getters: a first page of 50
 * that selects only `pageInfo { endCursor }` encodes one cursor, not 50.
 */
export function toConnection<T>(page: Page<T>) {
  const cursorAt = (node: T | undefined) => (node === undefined ? null : page.cursorOf(node));
  return {
    edges: page.nodes.map((node) => ({
      node,
      get cursor() {
        return page.cursorOf(node);
      },
    })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      get startCursor() {
        return cursorAt(page.nodes[0]);
      },
      get endCursor() {
        return cursorAt(page.nodes.at(-1));
      },
    },
    totalCount: page.totalCount,
  };
}
