// A real OpenID Connect identity provider for the single sign-on tests (npm package oidc-provider),
// listening on 127.0.0.1 at a free port. Its own login page (oidc-provider's development
// interaction) accepts any login: the login typed is the person's e-mail address, reported as
// verified, except a login starting with "unverified." whose address is reported unverified. A
// login may end with "#group,group…": those are the "groups" claim (a list; none without "#"). A
// login may carry ";amr=method,method…" right after the address: the sign-in's authentication
// methods (RFC 8176), in the ID token's "amr" claim (none without it), e.g.
// "nina@acme.test;amr=pwd,otp,mfa#staff". The marker is not part of the account.
//
// Environment: CLIENT_ID, CLIENT_SECRET (the one client), REDIRECT_PREFIX (the client's redirect
// URIs must start with it: the portal's test server on its own free port), PORT (default 0: a
// free port; the README's demo uses a fixed one).
// Prints one JSON line, {"issuer": "http://127.0.0.1:<port>"}, once it listens.
import http from "node:http";
import Provider from "oidc-provider";

const { CLIENT_ID, CLIENT_SECRET, REDIRECT_PREFIX, PORT = "0" } = process.env;

const server = http.createServer();
server.listen(Number(PORT), "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${REDIRECT_PREFIX}/placeholder`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    claims: { openid: ["sub", "amr"], email: ["email", "email_verified"], profile: ["name", "groups"] },
    conformIdTokenClaims: false, // the ID token carries the e-mail claims the portal reads
    cookies: { keys: ["test-only-cookie-key"] },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      const [login, groupList] = id.split("#");
      const verified = !login.startsWith("unverified.");
      const email = verified ? login : login.slice("unverified.".length);
      const groups = groupList === undefined ? [] : groupList.split(",").filter(Boolean);
      return {
        accountId: id,
        async claims() {
          return { sub: id, email, email_verified: verified, name: `Test ${email.split("@")[0]}`, groups };
        },
      };
    },
    // No consent screen: the test client is trusted for the scopes it asks.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
  });
  // The development login page finishes with { login: { accountId } }: the ";amr=…" marker of the
  // typed login becomes the session's authentication methods, and leaves the account's name.
  const finished = provider.interactionFinished.bind(provider);
  provider.interactionFinished = (req, res, result, options) => {
    const typed = result?.login?.accountId;
    if (typeof typed === "string" && typed.includes(";amr=")) {
      const [address, rest] = typed.split(";amr=");
      const [methods, groups] = rest.split("#");
      const accountId = groups === undefined ? address : `${address}#${groups}`;
      result = { ...result, login: { ...result.login, accountId, amr: methods.split(",").filter(Boolean) } };
    }
    return finished(req, res, result, options);
  };
  provider.Client.prototype.redirectUriAllowed = function allowed(uri) {
    return typeof uri === "string" && uri.startsWith(`${REDIRECT_PREFIX}/`);
  };
  server.on("request", provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
