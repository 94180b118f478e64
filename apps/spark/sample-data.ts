// The sample dataset of the example job and the example notebook: a 10 x 10 grid of one-degree cells (WKT
// polygons) and points scattered over it, generated here deterministically (the same files on every run, so
// the seed Job is replaced only when this generator changes). Small enough for a ConfigMap (limit 1 MiB).

/** Where the seed Job puts the files, under the spark app's samples bucket. */
export const SAMPLE_PREFIX = "sedona-sample";
export const SAMPLE_POINTS = 5000;
const GRID = 10;
/** The grid's south-west corner (lon, lat): a stretch of western Europe, for a map that looks like one. */
const ORIGIN = [0, 43] as const;

/** A linear congruential generator (Numerical Recipes constants): reproducible, no dependency. */
function lcg(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return state / 2 ** 32;
    };
}

/** cells.csv: `cell,wkt`, one closed polygon ring per cell. */
export function cellsCsv(): string {
    const rows = ["cell,wkt"];
    for (let i = 0; i < GRID * GRID; i++) {
        const x0 = ORIGIN[0] + (i % GRID);
        const y0 = ORIGIN[1] + Math.floor(i / GRID);
        const ring = [
            [x0, y0],
            [x0 + 1, y0],
            [x0 + 1, y0 + 1],
            [x0, y0 + 1],
            [x0, y0],
        ];
        rows.push(`${i},"POLYGON ((${ring.map(([x, y]) => `${x} ${y}`).join(", ")}))"`);
    }
    return rows.join("\n") + "\n";
}

/** points.csv: `id,lon,lat`, uniformly over the grid, six decimals. */
export function pointsCsv(): string {
    const next = lcg(42);
    const rows = ["id,lon,lat"];
    for (let id = 0; id < SAMPLE_POINTS; id++) {
        rows.push(`${id},${(ORIGIN[0] + next() * GRID).toFixed(6)},${(ORIGIN[1] + next() * GRID).toFixed(6)}`);
    }
    return rows.join("\n") + "\n";
}
