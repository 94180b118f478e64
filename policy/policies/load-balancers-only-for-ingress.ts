import { ResourceValidationPolicy } from "@pulumi/policy";

export const INGRESS_NAMESPACES = ["traefik"];

/** Every LoadBalancer is a public endpoint that bypasses the ingress, its TLS and its auth. */
export const loadBalancersOnlyForIngress: ResourceValidationPolicy = {
    name: "load-balancers-only-for-ingress",
    description: "Services of type LoadBalancer exist only for the ingress controller.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "kubernetes:core/v1:Service") args.notApplicable("not a Service");
        if (args.props.spec?.type === "LoadBalancer" && !INGRESS_NAMESPACES.includes(args.props.metadata?.namespace)) {
            reportViolation(`Service ${args.name} is of type LoadBalancer. Use ClusterIP and expose it through an Ingress (class traefik) with TLS.`);
        }
    },
};
