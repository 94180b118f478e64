import * as fs from "fs";
import * as zlib from "zlib";

// The regular files of a Helm chart archive (.tgz), read in memory. Helm writes
// them with Go's archive/tar: ustar headers, PAX records for long names; the
// GNU long-name header is read too. Nothing is extracted to disk.

const BLOCK = 512;

const field = (header: Buffer, offset: number, length: number): string => {
    const raw = header.subarray(offset, offset + length);
    const end = raw.indexOf(0);
    return raw.subarray(0, end < 0 ? length : end).toString("utf8");
};

function octal(header: Buffer, offset: number, length: number, file: string): number {
    // GNU base-256 sizes only occur for entries over 8 GiB, which no chart has.
    if (header[offset] & 0x80) throw new Error(`${file}: tar entry larger than the ustar size field, not a chart archive`);
    const text = field(header, offset, length).trim();
    return text === "" ? 0 : parseInt(text, 8);
}

/** PAX extended header records ("<len> key=value\n"): only `path` matters here. */
function paxPath(data: Buffer): string | undefined {
    let at = 0;
    let found: string | undefined;
    while (at < data.length) {
        const space = data.indexOf(0x20, at);
        if (space < 0) break;
        const length = parseInt(data.subarray(at, space).toString("utf8"), 10);
        if (!(length > 0)) break;
        const record = data.subarray(space + 1, at + length - 1).toString("utf8");
        const eq = record.indexOf("=");
        if (record.slice(0, eq) === "path") found = record.slice(eq + 1);
        at += length;
    }
    return found;
}

/** Path -> content of every regular file in the gzipped tar at `file`. */
export function readArchive(file: string): Map<string, Buffer> {
    const tar = zlib.gunzipSync(fs.readFileSync(file));
    const files = new Map<string, Buffer>();
    let at = 0;
    let longName: string | undefined;
    while (at + BLOCK <= tar.length) {
        const header = tar.subarray(at, at + BLOCK);
        if (header.every((b) => b === 0)) break;
        const size = octal(header, 124, 12, file);
        const type = String.fromCharCode(header[156] || 0x30);
        const data = tar.subarray(at + BLOCK, at + BLOCK + size);
        at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
        if (type === "x") longName = paxPath(data) ?? longName;
        else if (type === "L") longName = field(data, 0, data.length);
        else if (type === "0" || type === "7") {
            const prefix = field(header, 345, 155);
            const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
            files.set(name.replace(/^\.\//, ""), Buffer.from(data));
            longName = undefined;
        } else if (type !== "g") longName = undefined;
    }
    return files;
}

/** The archive's text files under `<chart>/`, with that top folder removed: "values.yaml", "charts/grafana/values.yaml", ... */
export function readChart(file: string): { name: string; files: Map<string, string> } {
    const all = readArchive(file);
    const tops = new Set([...all.keys()].map((p) => p.split("/")[0]));
    if (tops.size !== 1) throw new Error(`${file}: a chart archive holds one top folder, this one has ${[...tops].join(", ") || "none"}`);
    const [top] = tops;
    const files = new Map<string, string>();
    for (const [p, data] of all) files.set(p.slice(top.length + 1), data.toString("utf8"));
    return { name: top, files };
}
