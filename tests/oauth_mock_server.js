// Runs oauth2-mock-server (npm) for tests/test_oauth.py and reports what it sees as JSON lines
// on stdout: {"event":"listening","url":...}, then one line per authorize redirect and token
// response. Through the documented BeforeResponse event, a refresh token starting with "revoked"
// is refused with invalid_grant.
// Every token gets a random jti, so two tokens issued in the same second differ.
const { randomUUID } = require('node:crypto');
const { OAuth2Server, Events } = require(process.argv[2]);

(async () => {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  server.service.on(Events.BeforeTokenSigning, (token) => {
    token.payload.jti = randomUUID();
  });
  server.service.on(Events.BeforeAuthorizeRedirect, (redirect, req) => {
    console.log(JSON.stringify({ event: 'authorize', query: req.query }));
  });
  server.service.on(Events.BeforeResponse, (response, req) => {
    const body = req.body || {};
    if (body.grant_type === 'refresh_token' && String(body.refresh_token || '').startsWith('revoked')) {
      response.statusCode = 400;
      response.body = { error: 'invalid_grant', error_description: 'the refresh token was revoked' };
    }
    console.log(JSON.stringify({
      event: 'token', request: body, status: response.statusCode,
      access_token: response.body.access_token || null, refresh_token: response.body.refresh_token || null,
    }));
  });
  await server.start(0, '127.0.0.1');
  console.log(JSON.stringify({ event: 'listening', url: server.issuer.url }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
