// Per-user object-store credentials for notebooks: before each spawn the hub exchanges the user's OIDC access
// token (kept in auth_state, refreshed before spawn: oauthenticator 17.4.0 oauth2.py refresh_pre_spawn defaults
// to True with enable_auth_state) for temporary MinIO credentials with STS AssumeRoleWithWebIdentity, and puts
// them into the server's environment. MinIO gives them the policies its OpenID config maps the token to, so the
// user is who MinIO sees: no shared identity. The call is an unsigned form POST, answered in XML (MinIO
// cmd/sts-handlers.go; AWS STS 2011-06-15 response shape), so the hub needs no extra Python package.
// No RoleArn: MinIO then validates against its one claim-based provider, the console's (sts-handlers.go
// AssumeRoleWithSSO uses openid.DummyRoleARN), which accepts the token because the jupyterhub client's access tokens
// carry its client id in `aud` (platform/object-storage.ts MINIO_OIDC_CLIENT), and maps the token's `groups` claim to
// the policies of the same names: the credentials are the user's own (MinIO's parent user is a hash of sub and iss),
// their rights those of the user's realm groups. MinIO takes DurationSeconds from 900 s to 365 days
// (internal/config/identity/openid/openid.go GetDefaultExpiration) and refuses a token without `sub`.

/** Lifetime of a notebook's credentials, counted from the pre-spawn hook, before the pod starts. */
export const STS_DURATION_SECONDS = 12 * 3600;
/** z2jh's culler runs this often (cull.every) and a spawn may take this long (singleuser.startTimeout): set explicitly. */
export const CULL_EVERY_SECONDS = 600;
export const START_TIMEOUT_SECONDS = 300;
/** Server age the culler stops at (cull.maxAge): the credentials outlast a slow start plus one culler period. */
export const SERVER_MAX_AGE_SECONDS = STS_DURATION_SECONDS - START_TIMEOUT_SECONDS - CULL_EVERY_SECONDS;

/** hub.extraConfig snippet: the pre_spawn_hook. Values are passed as JSON literals, valid Python. */
export function stsPreSpawnHook(endpoint: string, durationSeconds = STS_DURATION_SECONDS): string {
    return `
from urllib.parse import urlencode
from xml.etree import ElementTree

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

_STS_ENDPOINT = ${JSON.stringify(endpoint)}
_STS_DURATION = ${JSON.stringify(String(durationSeconds))}
_STS_NS = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/"}


async def geoplatform_minio_credentials(spawner):
    """Temporary MinIO credentials of the spawning user, or none (and a logged reason): never a shared identity."""
    auth_state = await spawner.user.get_auth_state() or {}
    token = auth_state.get("access_token")
    if not token:
        spawner.log.warning("no access token in auth_state for %s: the notebook gets no object-store credentials", spawner.user.name)
        return
    body = urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "WebIdentityToken": token, "DurationSeconds": _STS_DURATION})
    request = HTTPRequest(_STS_ENDPOINT, method="POST", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, request_timeout=20)
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    if response.code != 200:
        spawner.log.warning("MinIO STS refused %s (HTTP %s): %s", spawner.user.name, response.code, (response.body or b"")[:300])
        return
    credentials = ElementTree.fromstring(response.body).find(".//sts:Credentials", _STS_NS)
    if credentials is None:
        spawner.log.warning("MinIO STS answered without credentials for %s", spawner.user.name)
        return
    # A new dict: the configured one may be shared by every spawner, and these credentials are this user's only.
    spawner.environment = {**spawner.environment, **{
        "AWS_ACCESS_KEY_ID": credentials.findtext("sts:AccessKeyId", namespaces=_STS_NS),
        "AWS_SECRET_ACCESS_KEY": credentials.findtext("sts:SecretAccessKey", namespaces=_STS_NS),
        "AWS_SESSION_TOKEN": credentials.findtext("sts:SessionToken", namespaces=_STS_NS),
        "AWS_CREDENTIALS_EXPIRATION": credentials.findtext("sts:Expiration", namespaces=_STS_NS),
    }}


c.Spawner.pre_spawn_hook = geoplatform_minio_credentials
`;
}
