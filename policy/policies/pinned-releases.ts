import { ResourceValidationPolicy } from "@pulumi/policy";
import { RELEASE } from "./common";

/** A checked chart archive of `npm run charts`: `<...>/.charts/<chart>-<version>.tgz`. */
const CACHED_ARCHIVE = /(^|\/)\.charts\/[a-z0-9][a-z0-9-]*-([^/]+)\.tgz$/;

/** An unpinned chart upgrades on the next `pulumi up`; a plain-HTTP repository can be tampered with. */
export const pinnedReleases: ResourceValidationPolicy = {
    name: "pinned-releases",
    description: "Helm releases pin a chart version and install the checked archive in .charts/ (or come from an https:// or oci:// repository).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== RELEASE) args.notApplicable("not a Helm release");
        const version: string | undefined = args.props.version;
        if (!version || /[*^~x]|latest/i.test(version)) {
            reportViolation(`Release ${args.name} (chart ${args.props.chart}) has no exact version (${version ?? "none"}). Pin it in config/catalog.ts.`);
        }
        const chart = String(args.props.chart);
        const cached = CACHED_ARCHIVE.exec(chart);
        if (cached && !args.props.repositoryOpts?.repo) {
            if (version && cached[2] !== version) {
                reportViolation(
                    `Release ${args.name} installs ${chart} but pins version ${version}. Point it at .charts/<chart>-${version}.tgz (platform/release.ts).`,
                );
            }
            return;
        }
        const repo: string | undefined = args.props.repositoryOpts?.repo ?? (chart.startsWith("oci://") ? chart : undefined);
        if (!repo || !/^(https|oci):\/\//.test(repo)) {
            reportViolation(
                `Release ${args.name} comes from ${repo ?? "no repository"}. Install the archive \`npm run charts\` puts in .charts/, or use the chart's https:// or oci:// repository (config/catalog.ts).`,
            );
        }
    },
};
