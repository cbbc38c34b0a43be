/** What a cache's synchronous lookup answers when it holds nothing to look in yet: only the database can tell. */
export const NOT_LOADED = Symbol('not loaded');
