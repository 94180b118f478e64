import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CHARTS, GEOCUBE_IMAGES, IMAGES, PLATFORM_IMAGES, PROJECT_IMAGES } from "../config/catalog";
import { readStackFile, REPO_ROOT, STACKS } from "./harness/stack-config";

// Renovate proposes the version bumps; its regex managers must find every pin
// the catalog holds, or a chart or image silently stops being proposed.

interface Manager {
    managerFilePatterns: string[];
    matchStrings: string[];
}
const renovate = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "renovate.json"), "utf8")) as { customManagers: Manager[] };

/** Every `depName@currentValue` (and registry) the managers extract from `file`, as Renovate does: each matchString over the whole file. */
function extracted(file: string): { depName: string; currentValue: string; registryUrl?: string }[] {
    const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
    return renovate.customManagers
        .filter((m) => m.managerFilePatterns.some((p) => new RegExp(p.slice(1, -1)).test(file)))
        .flatMap((m) => m.matchStrings.flatMap((s) => [...text.matchAll(new RegExp(s, "gm"))].map((x) => x.groups as any)));
}

describe("Renovate", () => {
    const catalog = extracted("config/catalog.ts");
    const found = (depName: string, currentValue: string) => catalog.some((d) => d.depName === depName && d.currentValue === currentValue);

    it("finds every chart of the catalog with its repository", () => {
        for (const entry of Object.values(CHARTS)) {
            assert.ok(
                catalog.some((d) => d.depName === entry.chart && d.currentValue === entry.version && d.registryUrl === entry.repo),
                `${entry.chart} ${entry.version}`,
            );
        }
    });

    it("finds every pinned image of the catalog", () => {
        for (const { repository, tag } of Object.values(PLATFORM_IMAGES)) assert.ok(found(repository, tag), `${repository}:${tag}`);
        // Images this project builds (GEOCUBE_IMAGES, PROJECT_IMAGES) have no upstream release for Renovate to propose.
        for (const image of Object.values(IMAGES).filter((i) => !i.startsWith(`${GEOCUBE_IMAGES.registry}/geoplatform-geocube-`))) {
            if (image.startsWith(`${PROJECT_IMAGES.registry}/`)) continue;
            const at = image.lastIndexOf(":");
            assert.ok(found(image.slice(0, at), image.slice(at + 1)), image);
        }
    });

    it("finds the Pulumi CLI pin and every stack's K3s version", () => {
        assert.deepStrictEqual(
            extracted(".pulumi.version").map((d) => d.currentValue),
            [fs.readFileSync(path.join(REPO_ROOT, ".pulumi.version"), "utf8").trim()],
        );
        for (const stack of STACKS) {
            assert.deepStrictEqual(
                extracted(`Pulumi.${stack}.yaml`).map((d) => d.currentValue),
                [readStackFile(stack)["geoplatform:k3sVersion"]],
            );
        }
    });
});
