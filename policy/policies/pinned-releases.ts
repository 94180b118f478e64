import { ResourceValidationPolicy } from "@pulumi/policy";
import { RELEASE } from "./common";

/** An unpinned chart upgrades on the next `pulumi up`; a plain-HTTP repository can be tampered with. */
export const pinnedReleases: ResourceValidationPolicy = {
    name: "pinned-releases",
    description: "Helm releases pin a chart version and come from https:// or oci:// repositories.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== RELEASE) args.notApplicable("not a Helm release");
        const version: string | undefined = args.props.version;
        if (!version || /[*^~x]|latest/i.test(version)) {
            reportViolation(`Release ${args.name} (chart ${args.props.chart}) has no exact version (${version ?? "none"}). Pin it in config/catalog.ts.`);
        }
        const repo: string | undefined = args.props.repositoryOpts?.repo ?? (String(args.props.chart).startsWith("oci://") ? args.props.chart : undefined);
        if (!repo || !/^(https|oci):\/\//.test(repo)) {
            reportViolation(`Release ${args.name} comes from ${repo ?? "no repository"}. Use the chart's https:// or oci:// repository (config/catalog.ts).`);
        }
    },
};
