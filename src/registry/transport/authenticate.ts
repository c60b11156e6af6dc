// The auth layer of the registry transport: answers Basic and Bearer challenges around a Send, and
// keeps the tokens it got by scope so later requests send them up front.
import { readBodyLimited } from '../../io/read-body.js';
import { registerSecret } from '../../redact.js';
import { basicAuthorization, parseWwwAuthenticate, type Credentials } from '../auth.js';
import { RegistryError } from '../registry-error.js';
import { discard, type Send, type SendOptions } from './send.js';

/** A bearer token answer is a few KiB; more is not a token service. */
const MAX_TOKEN_BYTES = 1024 * 1024;

/** Sends one request for `scope`, answering one challenge; a refusal is a RegistryError. */
export type AuthorizedSend = (url: string, options: SendOptions & { scope: string }) => Promise<Response>;

/**
 * `registryOrigin` is the registry's own origin (`http://host:port`): its credentials and tokens go only
 * there. Another origin (an upload redirected to storage, a hostile Link) gets no Authorization header.
 */
export function createAuthorizedSend(send: Send, credentials: Credentials | undefined, timeoutMs: number, registryOrigin: string): AuthorizedSend {
  if (credentials) registerSecret(credentials.password);
  let basic: string | undefined;
  const tokens = new Map<string, Promise<string>>();

  const authorization = async (scope: string): Promise<string | undefined> => {
    const token = tokens.get(scope);
    if (token) return `Bearer ${await token.catch(() => '')}`;
    return basic;
  };

  const fetchToken = async (realm: string, service: string | undefined, scope: string): Promise<string> => {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const part of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', part);
    const where = `${url.origin}${url.pathname}`;
    const headers: Record<string, string> = {};
    if (credentials) headers.authorization = basicAuthorization(credentials);
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new RegistryError(`cannot reach the token service ${where}`, { cause: error });
    }
    if (!response.ok) {
      await discard(response);
      throw authError(where, `the token service answered HTTP ${response.status}`, response.status);
    }
    let body: { token?: string; access_token?: string };
    try {
      body = JSON.parse((await readBodyLimited(response, MAX_TOKEN_BYTES, `the token answer of ${where}`)).toString('utf8')) as typeof body;
    } catch (error) {
      throw authError(where, `the token service answered no token: ${error instanceof Error ? error.message : String(error)}`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw authError(where, 'the token service returned no token');
    registerSecret(token);
    return token;
  };

  return async (url, options) => {
    if (new URL(url).origin !== registryOrigin) return sendElsewhere(send, url, options, registryOrigin);
    let response = await send(url, options, await authorization(options.scope));
    if (response.status !== 401) return response;
    const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate'));
    await discard(response);
    if (challenge?.kind === 'basic') {
      if (!credentials) throw authError(url, 'the registry asks for a user name and password', 401);
      basic = basicAuthorization(credentials);
      response = await send(url, options, basic);
    } else if (challenge?.kind === 'bearer') {
      // Stored under the request's scope (replacing a stale token there), fetched for the challenge's scope.
      const token = fetchToken(challenge.realm, challenge.service, challenge.scope ?? options.scope);
      tokens.set(options.scope, token);
      response = await send(url, options, `Bearer ${await token}`);
    }
    if (response.status === 401) {
      await discard(response);
      throw authError(url, credentials ? 'the registry refused the credentials' : 'the registry needs credentials', 401);
    }
    return response;
  };
}

/** A request to another origin than the registry's: sent without credentials, a challenge not answered. */
async function sendElsewhere(send: Send, url: string, options: SendOptions, registryOrigin: string): Promise<Response> {
  const response = await send(url, options, undefined);
  if (response.status !== 401) return response;
  await discard(response);
  throw new RegistryError(`${new URL(url).origin} asks for credentials, but the credentials of ${registryOrigin} are sent only to ${registryOrigin}`, {
    status: 401,
    hint: 'the registry sent the request to another host (an upload Location); configure the registry to serve it from its own host or without authentication',
  });
}

/** The error for a refused or missing login; says what to set. */
export function authError(url: string, why: string, status?: number): RegistryError {
  return new RegistryError(`${url}: ${why}`, {
    ...(status === undefined ? {} : { status }),
    hint: 'set the access_pair variables of the mirror (id_variable/secret_variable) or log in with docker login; check the repository permissions',
  });
}
