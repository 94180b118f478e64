import { StackValidationPolicy } from "@pulumi/policy";
import { WORLD_CIDRS } from "./common";
import { ADMIN_PORTS, Opening, openingsOf, RULE_TYPES, SG, worldCovered } from "./openings";

/**
 * The security group a rule belongs to: its own URN for inline rules, else the group it
 * depends on through securityGroupId (known in preview, when the id itself is not), else the id.
 */
function groupOf(r: { type: string; urn: string; props: any; propertyDependencies?: Record<string, { urn: string }[]> }): string {
    if (r.type === SG) return r.urn;
    return r.propertyDependencies?.securityGroupId?.[0]?.urn ?? String(r.props.securityGroupId);
}

/** Rules that each open an admin port to part of the internet can add up to all of it (0.0.0.0/1 + 128.0.0.0/1). */
export const noWorldAdminPortsInPieces: StackValidationPolicy = {
    name: "no-world-admin-ports-in-pieces",
    description: "The rules of one security group do not together open an admin port (22, 6443, 10250) or all protocols to every address.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const rules = args.resources.filter((r) => RULE_TYPES.includes(r.type));
        if (rules.length === 0) args.notApplicable("no security group rules in this stack");
        const byGroup = new Map<string, { name: string; urn: string; opening: Opening }[]>();
        for (const r of rules) {
            for (const opening of openingsOf(r.type, r.props)) {
                const group = groupOf(r as never);
                byGroup.set(group, [...(byGroup.get(group) ?? []), { name: r.name, urn: r.urn, opening }]);
            }
        }
        for (const [group, openings] of byGroup) {
            // A single world-open rule is no-world-admin-ports' to report; here only rules that need each other.
            const pieces = openings.filter((o) => !o.opening.cidrs.some((c) => WORLD_CIDRS.includes(c)));
            const report = (what: string, reaching: typeof pieces) => {
                const cidrs = reaching.flatMap((o) => o.opening.cidrs);
                const names = [...new Set(reaching.map((o) => o.name))].join(", ");
                const world = worldCovered(cidrs).join(" and ");
                reportViolation(
                    `Security group ${group}: rules ${names} together open ${what} to every ${world} address (${cidrs.join(" + ")}). Restrict them to geoplatform:adminCidrs.`,
                    reaching[0].urn,
                );
            };
            const allProtocols = pieces.filter((o) => o.opening.allProtocols);
            if (worldCovered(allProtocols.flatMap((o) => o.opening.cidrs)).length > 0) {
                report("all protocols and ports", allProtocols);
                continue;
            }
            const reachingPort = (port: number) => pieces.filter((o) => o.opening.from <= port && port <= o.opening.to);
            const open = ADMIN_PORTS.filter((port) => worldCovered(reachingPort(port).flatMap((o) => o.opening.cidrs)).length > 0);
            if (open.length > 0) report(`port ${open.join(", ")}`, [...new Set(open.flatMap(reachingPort))]);
        }
    },
};
