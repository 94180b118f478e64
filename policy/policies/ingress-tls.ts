import { ResourceValidationPolicy } from "@pulumi/policy";

const ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";

/** Every UI is served over HTTPS with a certificate cert-manager renews. */
export const ingressTls: ResourceValidationPolicy = {
    name: "ingress-tls",
    description: "Every Ingress has a TLS section and a cert-manager cluster issuer.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "kubernetes:networking.k8s.io/v1:Ingress") args.notApplicable("not an Ingress");
        if (!args.props.spec?.tls || args.props.spec.tls.length === 0) {
            reportViolation(`Ingress ${args.name} has no spec.tls. Add tls: [{ hosts: [<host>], secretName: <name>-tls }].`);
        }
        if (!args.props.metadata?.annotations?.[ISSUER_ANNOTATION]) {
            reportViolation(`Ingress ${args.name} names no certificate issuer. Annotate it with ${ISSUER_ANNOTATION}: <Platform.clusterIssuer>.`);
        }
    },
};
