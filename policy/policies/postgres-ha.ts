import { StackValidationPolicy } from "@pulumi/policy";

/** A single PostgreSQL instance takes Keycloak, and with it every login, down with it. */
export const postgresHa: StackValidationPolicy = {
    name: "postgres-ha",
    description: "CloudNativePG clusters run at least 3 instances (primary and two standbys).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const clusters = args.resources.filter((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:Cluster");
        if (clusters.length === 0) args.notApplicable("no PostgreSQL cluster in this stack");
        for (const cluster of clusters) {
            const instances = cluster.props.spec?.instances ?? 1;
            if (instances < 3) {
                reportViolation(
                    `PostgreSQL cluster ${cluster.name} has ${instances} instance(s). Set geoplatform:platform.postgres.instances to 3 for automatic failover.`,
                    cluster.urn,
                );
            }
        }
    },
};
