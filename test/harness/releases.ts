import { ChartEntry, CHARTS } from "../../config/catalog";
import { releaseChart } from "../../platform/release";
import { RecordedResource } from "./run-stack";

/** The catalog entry whose cached archive a recorded Release installs. */
export function releaseEntry(r: RecordedResource): ChartEntry {
    const entry = Object.values(CHARTS).find((e) => releaseChart(e) === r.inputs.chart);
    if (!entry) throw new Error(`Release ${r.name} installs ${r.inputs.chart}, which is no catalog chart's archive (platform/release.ts releaseChart)`);
    return entry;
}

/** The chart name a recorded Release installs. */
export const chartOf = (r: RecordedResource): string => releaseEntry(r).chart;
