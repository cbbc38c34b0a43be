/** The connection failures people meet, in words; the code stays beside them for searching. */
export const connectionFailures: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  // undici (the admin verbs' HTTP client) and postgres.js (the database) name two more.
  UND_ERR_SOCKET: 'closed the connection without answering',
  CONNECT_TIMEOUT: 'connection timed out',
};
