import { NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX } from "../platform/namespaces";
import { EXECUTOR_NAMESPACE_ENV, ExecutorObjects, TOKENS, USER_SERVICE_ACCOUNT_PREFIX } from "./notebook-executors";

/**
 * KubeSpawner's slug of a username: `{safe_username}` in its templates (kubespawner 7.0.0 spawner.py
 * _expand_user_properties: safe_slug(name, max_length=48)), an injective map onto DNS labels (slugs.py safe_slug:
 * a valid name unchanged, any other, and any name holding "--", hashed to `<name>---<sha256[:8]>`). 48 + the
 * prefixes stays within a DNS label's 63.
 */
const SLUG_MAX_LENGTH = 48;

/**
 * hub.extraConfig snippet, after the STS one (apps/jupyterhub-sts.ts), whose hooks it wraps: before each spawn the
 * user's executor namespace and ServiceAccount, then the STS credentials; after each stop the user's executors go.
 * A failure to create fails the spawn with a message (as the STS hook does); a failure to clean up is logged only.
 */
export function executorsHook(objects: ExecutorObjects, hubNamespace: string): string {
    return `
import asyncio

from kubernetes_asyncio.client.rest import ApiException
from kubespawner.clients import shared_client
from kubespawner.slugs import is_valid_label, safe_slug

_NBX_OBJECTS = ${JSON.stringify(objects)}
_NBX_TOKENS = ${JSON.stringify(TOKENS)}
_NBX_PREFIX = ${JSON.stringify(NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX)}
_NBX_SA_PREFIX = ${JSON.stringify(USER_SERVICE_ACCOUNT_PREFIX)}
_NBX_HUB_NAMESPACE = ${JSON.stringify(hubNamespace)}
_NBX_TIMEOUT = 20
_geoplatform_sts_pre_spawn = c.Spawner.pre_spawn_hook
_geoplatform_sts_post_stop = c.Spawner.post_stop_hook


def _geoplatform_executor_names(spawner):
    # The same slugs KubeSpawner uses: {safe_username} for object names, its username pod label for the label.
    slug = safe_slug(spawner.user.name, max_length=${SLUG_MAX_LENGTH})
    return {_NBX_TOKENS["namespace"]: _NBX_PREFIX + slug, _NBX_TOKENS["serviceAccount"]: _NBX_SA_PREFIX + slug,
            _NBX_TOKENS["usernameLabel"]: safe_slug(spawner.user.name, is_valid=is_valid_label)}


def _geoplatform_fill(value, names):
    # Whole string values only: no placeholder is ever part of a longer string.
    if isinstance(value, dict):
        return {k: _geoplatform_fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_geoplatform_fill(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


async def _geoplatform_create(create, on_conflict=None):
    # Idempotent: 409 means it exists; on_conflict brings an existing object to the rendered one (an upgrade).
    try:
        await asyncio.wait_for(create(), _NBX_TIMEOUT)
    except ApiException as e:
        if e.status != 409:
            raise
        if on_conflict:
            await asyncio.wait_for(on_conflict(), _NBX_TIMEOUT)


async def geoplatform_executor_namespace(spawner):
    """The user's executor namespace and ServiceAccount, or a failed spawn; then the user's pod runs as that account."""
    names = _geoplatform_executor_names(spawner)
    o = _geoplatform_fill(_NBX_OBJECTS, names)
    ns, sa = o["namespace"]["metadata"]["name"], o["serviceAccount"]["metadata"]["name"]
    core, rbac, net = spawner.api, shared_client("RbacAuthorizationV1Api"), shared_client("NetworkingV1Api")
    try:
        await _geoplatform_create(lambda: core.create_namespace(o["namespace"]),
                                  lambda: core.patch_namespace(ns, {"metadata": {"labels": o["namespace"]["metadata"]["labels"]}}))
        await _geoplatform_create(lambda: core.create_namespaced_service_account(_NBX_HUB_NAMESPACE, o["serviceAccount"]))
        # The policies (default deny first) before the binding: no executor starts in a namespace without them.
        for policy in o["networkPolicies"]:
            name = policy["metadata"]["name"]
            await _geoplatform_create(lambda: net.create_namespaced_network_policy(ns, policy),
                                      lambda: net.replace_namespaced_network_policy(name, ns, policy))
        await _geoplatform_create(lambda: rbac.create_namespaced_role_binding(ns, o["roleBinding"]))
    except (ApiException, asyncio.TimeoutError) as e:
        spawner.log.warning("cannot prepare executor namespace %s for %s: %s", ns, spawner.user.name, getattr(e, "status", "timeout"))
        _geoplatform_refuse(500, "the hub could not prepare your Spark executors' namespace; ask an admin")
    spawner.service_account = sa
    # A new dict: the configured one may be shared by every spawner.
    spawner.environment = {**spawner.environment, ${JSON.stringify(EXECUTOR_NAMESPACE_ENV)}: ns}


async def geoplatform_executor_cleanup(spawner):
    """Every pod and ConfigMap of the stopped server's namespace; the namespace stays for the next start. Errors are logged."""
    # The namespace is the user's alone: any pod there (Spark's executors or not) is the stopped server's. The
    # namespace controller recreates kube-root-ca.crt.
    ns = _geoplatform_executor_names(spawner)[_NBX_TOKENS["namespace"]]
    for what, delete in (("pods", spawner.api.delete_collection_namespaced_pod), ("configmaps", spawner.api.delete_collection_namespaced_config_map)):
        try:
            await asyncio.wait_for(delete(ns), _NBX_TIMEOUT)
        except (ApiException, asyncio.TimeoutError) as e:
            spawner.log.warning("cannot delete executor %s in %s: %s", what, ns, getattr(e, "status", "timeout"))


async def geoplatform_pre_spawn(spawner):
    await geoplatform_executor_namespace(spawner)
    await _geoplatform_sts_pre_spawn(spawner)


async def geoplatform_post_stop(spawner):
    try:
        await geoplatform_executor_cleanup(spawner)
    finally:
        await _geoplatform_sts_post_stop(spawner)


c.Spawner.pre_spawn_hook = geoplatform_pre_spawn
c.Spawner.post_stop_hook = geoplatform_post_stop
`;
}
