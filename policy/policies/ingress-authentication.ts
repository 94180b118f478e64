import { ResourceValidationPolicy } from "@pulumi/policy";
import { RELEASE } from "./common";

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares";

export interface IngressAuthConfig {
    /** Hosts (full name, or first DNS label such as "jupyter") whose app runs its own OIDC login. */
    selfAuthenticatingHosts: string[];
    /** Traefik middlewares (by name) that authenticate every request against the SSO (forward auth). */
    ssoMiddlewares: string[];
}

/** Defaults, as the config schema declares them (the engine fills them in; direct callers get them here). */
export const INGRESS_AUTH_DEFAULTS: IngressAuthConfig = {
    selfAuthenticatingHosts: ["jupyter", "argo", "grafana", "minio", "auth"],
    ssoMiddlewares: ["oauth2-proxy"],
};

interface Exposure {
    where: string;
    hosts: string[];
    annotations: Record<string, unknown>;
}

const hostsOf = (x: any): string[] => [
    ...(typeof x.host === "string" ? [x.host] : []),
    ...(x.hosts ?? []).map((h: any) => (typeof h === "string" ? h : h?.host)),
    ...(x.rules ?? []).map((r: any) => r?.host),
];

/** The Ingresses a resource creates: itself, or the enabled `*ingress` blocks of a Release's values. */
export function exposures(type: string, props: any): Exposure[] {
    if (type === INGRESS) return [{ where: "spec.rules", hosts: hostsOf(props.spec ?? {}), annotations: props.metadata?.annotations ?? {} }];
    if (type !== RELEASE) return [];
    const found: Exposure[] = [];
    const walk = (v: unknown, path: string) => {
        if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
        else if (v && typeof v === "object") {
            for (const [k, x] of Object.entries(v as Record<string, any>)) {
                const p = path ? `${path}.${k}` : k;
                if (/ingress$/i.test(k) && x && typeof x === "object" && x.enabled === true)
                    found.push({ where: `values.${p}`, hosts: hostsOf(x), annotations: x.annotations ?? {} });
                else walk(x, p);
            }
        }
    };
    walk(props.values, "");
    return found;
}

/** Middleware names in Traefik's annotation: "<namespace>-<name>@kubernetescrd, ...". */
function usesMiddleware(annotations: Record<string, unknown>, names: string[]): boolean {
    const refs = String(annotations[MIDDLEWARES] ?? "")
        .split(",")
        .map((r) => r.trim().split("@")[0])
        .filter((r) => r);
    return refs.some((ref) => names.some((n) => ref === n || ref.endsWith(`-${n}`)));
}

function selfAuthenticating(host: string, hosts: string[]): boolean {
    return hosts.includes(host) || hosts.includes(host.split(".")[0]);
}

/** Every UI on the internet asks who is there: through the SSO middleware, or the app's own OIDC login. */
export const ingressAuthentication: ResourceValidationPolicy = {
    name: "ingress-authentication",
    description: "Every Ingress authenticates: an SSO forward-auth middleware, or a host whose app does its own OIDC login (policy config).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            selfAuthenticatingHosts: { type: "array", items: { type: "string" }, default: INGRESS_AUTH_DEFAULTS.selfAuthenticatingHosts },
            ssoMiddlewares: { type: "array", items: { type: "string" }, default: INGRESS_AUTH_DEFAULTS.ssoMiddlewares },
        },
    },
    validateResource: (args, reportViolation) => {
        if (args.type !== INGRESS && args.type !== RELEASE) args.notApplicable("neither an Ingress nor a Helm release");
        const config = { ...INGRESS_AUTH_DEFAULTS, ...args.getConfig<Partial<IngressAuthConfig>>() };
        for (const e of exposures(args.type, args.props)) {
            if (usesMiddleware(e.annotations, config.ssoMiddlewares)) continue;
            const open = e.hosts.length === 0 ? ["(any host)"] : e.hosts.filter((h) => !selfAuthenticating(h, config.selfAuthenticatingHosts));
            for (const host of open) {
                reportViolation(
                    `${args.name} serves ${host} (${e.where}) without authentication. Add the SSO middleware (${MIDDLEWARES}: <namespace>-${config.ssoMiddlewares[0]}@kubernetescrd), ` +
                        "or, if the app logs users in through OIDC itself, list its host in the policy config's selfAuthenticatingHosts.",
                );
            }
        }
    },
};
