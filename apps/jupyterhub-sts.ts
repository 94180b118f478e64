// Per-user object-store credentials for notebooks: before each spawn the hub exchanges the user's OIDC access
// token (kept in auth_state, refreshed before spawn: oauthenticator 17.4.0 oauth2.py refresh_pre_spawn defaults
// to True with enable_auth_state) for temporary MinIO credentials with STS AssumeRoleWithWebIdentity, writes
// them to a per-server Secret and points the server's environment at it (secretKeyRef: no key in the pod spec). MinIO gives them the policies its OpenID config maps the token to, so the
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

/** Suffix of the per-server Secret holding the credentials: `<pod name><suffix>` in the hub's namespace. */
export const STS_SECRET_SUFFIX = "-s3-credentials";
/** Label on that Secret, so it is recognisable (and selectable) among the hub's Secrets. */
export const STS_SECRET_LABELS = { "app.kubernetes.io/component": "notebook-s3-credentials", "app.kubernetes.io/managed-by": "geoplatform-jupyterhub-hook" };

/**
 * hub.extraConfig snippet: the pre_spawn_hook and post_stop_hook. Values are passed as JSON literals, valid Python.
 * A refusal (no access token, STS refuses, no Secret) fails the spawn: JupyterHub 5.5.0 shows `Spawn failed: <message>`
 * (apihandlers/users.py progress, utils.format_exception reads `jupyterhub_message`), rather than a notebook that
 * fails at its first cell. An HTTPError is logged without a traceback (user.py spawn).
 */
export function stsPreSpawnHook(endpoint: string, sessionPolicy: string, durationSeconds = STS_DURATION_SECONDS): string {
    return `
import asyncio
from urllib.parse import urlencode
from xml.etree import ElementTree

from kubernetes_asyncio.client.rest import ApiException
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.web import HTTPError

_STS_ENDPOINT = ${JSON.stringify(endpoint)}
_STS_DURATION = ${JSON.stringify(String(durationSeconds))}
# At most the data-scientists policy, whatever the user's groups map to (MinIO intersects them).
_STS_SESSION_POLICY = ${JSON.stringify(sessionPolicy)}
_STS_NS = {"sts": "https://sts.amazonaws.com/doc/2011-06-15/"}
_STS_SECRET_SUFFIX = ${JSON.stringify(STS_SECRET_SUFFIX)}
_STS_SECRET_LABELS = ${JSON.stringify(STS_SECRET_LABELS)}
_STS_SECRET_KEYS = {"AWS_ACCESS_KEY_ID": "AccessKeyId", "AWS_SECRET_ACCESS_KEY": "SecretAccessKey", "AWS_SESSION_TOKEN": "SessionToken"}
_K8S_TIMEOUT = 20


def _geoplatform_refuse(status, message):
    error = HTTPError(status, "%s", message)
    error.jupyterhub_message = message
    raise error


def _geoplatform_secret_name(spawner):
    # KubeSpawner's pod name is already a unique, DNS-safe slug of user and server (kubespawner 7.0.0 pod_name_template).
    return spawner.pod_name + _STS_SECRET_SUFFIX


async def _geoplatform_write_secret(spawner, name, values):
    # The hub's Role (z2jh 4.4.0 templates/hub/rbac.yaml) has get/list/watch/create/delete on secrets, no update or
    # patch: replacing a leftover (a hub that died before post_stop_hook) is delete, then create.
    body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "stringData": values,
            "metadata": {"name": name, "labels": _STS_SECRET_LABELS, "annotations": {"hub.jupyter.org/username": spawner.user.name}}}
    try:
        await asyncio.wait_for(spawner.api.create_namespaced_secret(spawner.namespace, body), _K8S_TIMEOUT)
    except ApiException as e:
        if e.status != 409:
            raise
        await _geoplatform_delete_secret(spawner, name)
        await asyncio.wait_for(spawner.api.create_namespaced_secret(spawner.namespace, body), _K8S_TIMEOUT)


async def _geoplatform_delete_secret(spawner, name):
    try:
        await asyncio.wait_for(spawner.api.delete_namespaced_secret(name, spawner.namespace), _K8S_TIMEOUT)
    except ApiException as e:
        if e.status != 404:
            raise


async def geoplatform_minio_credentials(spawner):
    """Temporary MinIO credentials of the spawning user in a Secret of this server, or a failed spawn: never a shared identity."""
    auth_state = await spawner.user.get_auth_state() or {}
    token = auth_state.get("access_token")
    if not token:
        _geoplatform_refuse(403, "no login token is stored for your account, so no object-store credentials can be issued: log out, log in again and restart your server")
    body = urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "WebIdentityToken": token, "DurationSeconds": _STS_DURATION, "Policy": _STS_SESSION_POLICY})
    request = HTTPRequest(_STS_ENDPOINT, method="POST", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, request_timeout=20)
    try:
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
    except (HTTPClientError, OSError) as e:
        # raise_error=False returns HTTP answers only; no answer at all (refused, DNS, TLS, the 599 timeout) still
        # raises (tornado 6.5 httpclient.py fetch, _error_is_response_code). The error names no credential.
        spawner.log.warning("MinIO STS unreachable for %s: %s", spawner.user.name, e)
        _geoplatform_refuse(503, "the object store (MinIO STS) did not answer, so no object-store credentials could be issued; try again in a minute, or ask an admin")
    if response.code >= 500:
        # MinIO starting or failing (503 "server not initialized" during a rollout): nothing is wrong with the user's login.
        spawner.log.warning("MinIO STS failed for %s (HTTP %s): %s", spawner.user.name, response.code, (response.body or b"")[:300])
        _geoplatform_refuse(503, f"the object store (MinIO STS) is not available (HTTP {response.code}), so no object-store credentials could be issued; try again in a minute, or ask an admin")
    if response.code != 200:
        spawner.log.warning("MinIO STS refused %s (HTTP %s): %s", spawner.user.name, response.code, (response.body or b"")[:300])
        _geoplatform_refuse(403, f"the object store (MinIO STS) refused your login token (HTTP {response.code}); ask an admin to check your groups, or log in again")
    try:
        credentials = ElementTree.fromstring(response.body).find(".//sts:Credentials", _STS_NS)
    except ElementTree.ParseError:
        credentials = None
    if credentials is None:
        _geoplatform_refuse(502, "the object store (MinIO STS) answered without credentials; ask an admin")
    name = _geoplatform_secret_name(spawner)
    try:
        await _geoplatform_write_secret(spawner, name, {env: credentials.findtext("sts:" + field, namespaces=_STS_NS) for env, field in _STS_SECRET_KEYS.items()})
    except (ApiException, asyncio.TimeoutError) as e:
        # Logged with the API's status only: the request body holds the credentials.
        spawner.log.warning("cannot write Secret %s for %s: %s", name, spawner.user.name, getattr(e, "status", "timeout"))
        _geoplatform_refuse(500, "the hub could not store your object-store credentials; ask an admin")
    # A new dict: the configured one may be shared by every spawner. KubeSpawner turns a dict value into an EnvVar
    # (kubespawner 7.0.0 objects.py make_pod), so the pod spec names the Secret, not the keys.
    spawner.environment = {**spawner.environment,
                           **{env: {"valueFrom": {"secretKeyRef": {"name": name, "key": env}}} for env in _STS_SECRET_KEYS},
                           "AWS_CREDENTIALS_EXPIRATION": credentials.findtext("sts:Expiration", namespaces=_STS_NS)}


async def geoplatform_minio_credentials_cleanup(spawner):
    """The stopped server's Secret goes with it; errors are logged by JupyterHub (user.py stop), never block the stop."""
    await _geoplatform_delete_secret(spawner, _geoplatform_secret_name(spawner))


c.Spawner.pre_spawn_hook = geoplatform_minio_credentials
c.Spawner.post_stop_hook = geoplatform_minio_credentials_cleanup
`;
}
