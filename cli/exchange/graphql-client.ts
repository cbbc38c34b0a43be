import { z } from 'zod';
import { connectionFailures } from '../connection-failures.ts';
import { CliError, ExitCode } from './exit-codes.ts';

const graphqlError = z.object({
  message: z.string(),
  extensions: z.object({ code: z.string().optional() }).loose().optional(),
});

// A JSON body with neither `data` nor `errors` is not a GraphQL response (`{}` from another API).
const responseBody = z
  .object({
    data: z.unknown().optional(),
    errors: z.array(graphqlError).optional(),
  })
  .refine((body) => body.data !== undefined || body.errors !== undefined);

type GraphQLError = z.infer<typeof graphqlError>;

export interface GraphQLClient {
  /** Runs one operation and returns its `data`, parsed with `schema`; any error becomes a CliError. */
  request<T>(document: string, variables: Record<string, unknown>, schema: z.ZodType<T>): Promise<T>;
  /** Waits for the person at the terminal (`wait`) without counting that time against the verb's timeout. */
  outsideTimeout<T>(wait: () => Promise<T>): Promise<T>;
}


const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

function describeUnreachable(url: string, err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : undefined;
  // undici's HTTP parser (HPE_…): something listens there, and it does not speak HTTP.
  if (code?.startsWith('HPE_')) return `${url}: not an HTTP server (${code}); check SENDGUARD_URL or --url`;
  // The fetch standard's blocked ports (6000, 6665–6669, 5060, …): nothing was tried, whatever listens there.
  if (cause instanceof Error && cause.message === 'bad port') {
    return `${url}: port ${new URL(url).port} is one the CLI's HTTP client will not connect to (a port of another protocol); serve Sendguard's HTTP on another port (SENDGUARD_HTTP_PORT)`;
  }
  const detail = code ? (connectionFailures[code] ? `${connectionFailures[code]} (${code})` : code) : oneLine(cause instanceof Error ? cause.message : String(cause));
  return `${url}: ${detail}; is Sendguard running there? Set SENDGUARD_URL or pass --url`;
}

/** What came back instead of a GraphQL response: its status and media type. */
function describeNotGraphQL(url: string, response: Response): string {
  const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim() || 'no content type';
  const answer = `HTTP ${response.status}, ${mediaType}`;
  // A gateway's error page: the URL may be right and Sendguard behind it down.
  if (response.status >= 502 && response.status <= 504) return `${url}: no answer from Sendguard behind it (${answer}); is it running?`;
  return `${url}: not a GraphQL endpoint (${answer}); check SENDGUARD_URL or --url`;
}

/** A field or type the server does not know: an older server, or one without that feature. */
function unsupported(error: GraphQLError): CliError | undefined {
  if (!/^(Cannot query field|Unknown type|Unknown argument|Field ".+" is not defined by type)/.test(error.message)) return undefined;
  return new CliError(ExitCode.failure, `the Sendguard API at this URL does not support this verb yet (${error.message})`);
}

/** graphql-js rejects a variable that does not fit its type (an unknown enum value, a string for an Int) with no code, as HTTP 400. */
const INVALID_VARIABLE = /^Variable "\$\w+" got invalid value /;

function toCliError(error: GraphQLError): CliError {
  const code = error.extensions?.code;
  if (code === undefined && INVALID_VARIABLE.test(error.message)) return new CliError(ExitCode.usage, `the server rejected a value: ${error.message}`);
  if (code === 'FORBIDDEN' || code === 'UNAUTHENTICATED') return new CliError(ExitCode.notAllowed, error.message);
  if (code === 'BAD_USER_INPUT') return new CliError(ExitCode.usage, error.message);
  if (code === 'TIMEOUT') return new CliError(ExitCode.failure, `the server gave up: ${error.message}`);
  if (code === 'GRAPHQL_VALIDATION_FAILED') return unsupported(error) ?? new CliError(ExitCode.failure, error.message);
  return new CliError(ExitCode.failure, `the server failed: ${error.message}`);
}

async function readBody(response: Response): Promise<z.infer<typeof responseBody> | undefined> {
  const text = await response.text();
  try {
    const parsed = responseBody.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function describeTimeout(url: string, seconds: number, document: string): string {
  const late = `Sendguard at ${url} did not answer within ${seconds} s (--timeout, SENDGUARD_TIMEOUT)`;
  // The server may still carry out a change it had received: the caller must look before retrying.
  return /^\s*mutation\b/.test(document) ? `${late}; the change may still have been made: check before trying again` : late;
}

const isTimeout = (err: unknown) => err instanceof Error && err.name === 'TimeoutError';

/**
 * GraphQL over HTTP POST with a bearer token; the CLI's only way to the data. `timeoutSeconds` is
 * one deadline for all of a verb's requests (every page of a listing, the look-up before a
 * change), counted from the first one; only time spent waiting on the terminal is left out.
 */
export function createGraphQLClient(options: { url: string; token: string | undefined; timeoutSeconds: number }): GraphQLClient {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let deadline: number | undefined;

  return {
    async request(document, variables, schema) {
      deadline ??= performance.now() + options.timeoutSeconds * 1000;
      const remaining = deadline - performance.now();
      // Spent before this request was sent: it cannot have changed anything.
      if (remaining <= 0) throw new CliError(ExitCode.failure, describeTimeout(options.url, options.timeoutSeconds, ''));
      const signal = AbortSignal.timeout(Math.ceil(remaining));
      let response: Response;
      let body: z.infer<typeof responseBody> | undefined;
      try {
        response = await fetch(options.url, { method: 'POST', headers, body: JSON.stringify({ query: document, variables }), signal });
        body = await readBody(response);
      } catch (err) {
        if (isTimeout(err)) throw new CliError(ExitCode.failure, describeTimeout(options.url, options.timeoutSeconds, document));
        throw new CliError(ExitCode.failure, describeUnreachable(options.url, err));
      }
      if (response.status === 401) {
        const reason = body?.errors?.[0]?.message ?? 'the server refused the token';
        const hint = options.token ? '' : ' (set SENDGUARD_TOKEN or pass --token; `sendguard token` prints one)';
        throw new CliError(ExitCode.notAllowed, `not authenticated: ${reason}${hint}`);
      }
      if (!body) throw new CliError(ExitCode.failure, describeNotGraphQL(options.url, response));
      const first = body.errors?.[0];
      if (first) throw toCliError(first);
      const data = schema.safeParse(body.data);
      if (!data.success) throw new CliError(ExitCode.failure, `${options.url}: unexpected answer (${oneLine(z.prettifyError(data.error))})`);
      return data.data;
    },
    async outsideTimeout(wait) {
      const started = performance.now();
      try {
        return await wait();
      } finally {
        if (deadline !== undefined) deadline += performance.now() - started;
      }
    },
  };
}
