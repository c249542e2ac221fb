// A real OpenID provider for the integration tests (npm `oidc-provider`), on 127.0.0.1 and a free
// port. Prints its issuer URL on one line when it is ready; stops on SIGTERM or when stdin closes.
//
// Environment:
//   OIDC_REDIRECT_URI   the relying party's callback (required), e.g. http://127.0.0.1:4321/auth/callback
//   OIDC_CLIENT_ID      default "samverkan"
//   OIDC_CLIENT_SECRET  default "test-secret" (client_secret_basic)
//   OIDC_ACCOUNTS       JSON: { "<login>": { "email": ..., "email_verified": ..., "name": ...,
//                       "organisations": [...], "roles": [...] } }. A login not listed is an account
//                       whose sub and email are the login itself, with the e-mail verified.
//   OIDC_ID_TOKEN_TTL   seconds an ID token is valid (default 3600)
//
// devInteractions are on: its login form takes any login and password, its consent form one click,
// so a test drives the whole flow with plain HTTP.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const redirectUri = process.env.OIDC_REDIRECT_URI;
if (!redirectUri) {
  console.error('OIDC_REDIRECT_URI is required');
  process.exit(2);
}
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const idTokenTtl = Number(process.env.OIDC_ID_TOKEN_TTL || 3600);

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: process.env.OIDC_CLIENT_ID || 'samverkan',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'test-secret',
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // PKCE for every client, not only public ones: a request without code_challenge is refused.
    pkce: { methods: ['S256'], required: () => true },
    // Scope claims go into the ID token too (the relying party reads only the ID token).
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'organisations', 'roles'],
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    ttl: { IdToken: idTokenTtl },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    async findAccount(_ctx, id) {
      const a = accounts[id] || {};
      return {
        accountId: id,
        async claims() {
          return {
            sub: a.sub || id,
            email: a.email || id,
            email_verified: a.email_verified !== undefined ? a.email_verified : true,
            name: a.name || id,
            organisations: a.organisations,
            roles: a.roles,
          };
        },
      };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(issuer);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
