import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { IMAGES, PROJECT_IMAGES, SPARK_JARS, SPARK_LINE } from "../config/catalog";
import { validateConfig } from "../config/validate";
import { rawGeoplatformConfig, REPO_ROOT } from "./harness/stack-config";

// The images cannot be built here (no Docker): what their Dockerfiles and requirement files say is checked
// against the versions the platform runs, and against what z2jh and the operator run in them.

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");

/** A Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(file: string): { op: string; args: string }[] {
    return read(file)
        .replace(/\\\n/g, " ")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => ({ op: l.split(/\s+/)[0].toUpperCase(), args: l.slice(l.indexOf(" ") + 1).trim() }));
}
const args = (file: string) =>
    Object.fromEntries(
        instructions(file)
            .filter((i) => i.op === "ARG")
            .map((i) => i.args.split("=", 2)),
    );
const last = (file: string, op: string) =>
    instructions(file)
        .filter((i) => i.op === op)
        .pop()?.args;

/** `name==version` pins of a requirements file; every line must be one. */
function pins(file: string): Record<string, string> {
    const lines = read(file)
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));
    for (const l of lines) assert.match(l, /^[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*$/, `${file}: ${l} is not pinned with ==`);
    return Object.fromEntries(lines.map((l) => l.split("==")));
}

const major = (v: string) => v.split(".").slice(0, 2).join(".");

describe("images: spark", () => {
    const file = "images/spark/Dockerfile";

    it("builds on apache/spark at the platform's Spark, Scala 2.13, Java 17, Python image, by tag", () => {
        assert.strictEqual(last(file, "FROM"), `apache/spark:${SPARK_LINE.spark}-scala${SPARK_LINE.scala}-java17-python3-ubuntu`);
    });

    it("bakes the catalog's jars (Sedona for this Spark and Scala, geotools-wrapper, hadoop-aws of Spark's Hadoop, its SDK v2 bundle)", () => {
        const a = args(file);
        assert.deepStrictEqual(
            [a.SEDONA_VERSION, a.GEOTOOLS_WRAPPER_VERSION, a.HADOOP_VERSION, a.AWS_SDK_V2_VERSION],
            [SPARK_LINE.sedona, SPARK_LINE.geotoolsWrapper, SPARK_LINE.hadoop, SPARK_LINE.awsSdkV2],
        );
        const text = read(file);
        for (const coordinate of SPARK_JARS) {
            const [group, artifact] = coordinate.split(":");
            const jarPath = `${group.replace(/\./g, "/")}/${artifact}/`;
            assert.ok(text.includes(`fetch "${jarPath}`), `${coordinate} fetched from Maven Central`);
        }
        // Sedona's artifact for the Spark minor and Scala binary the image runs.
        assert.ok(SPARK_JARS[0].startsWith(`org.apache.sedona:sedona-spark-shaded-${major(SPARK_LINE.spark)}_${SPARK_LINE.scala}:`));
        assert.match(text, /sha1sum -c -/, "each jar checked against its published SHA-1");
    });

    it("installs Sedona's Python package at the jars' version, every package pinned", () => {
        const p = pins("images/spark/requirements.txt");
        assert.strictEqual(p["apache-sedona"], SPARK_LINE.sedona);
        // Python 3.10 (Ubuntu 22.04): numpy 2.3 and pandas 3 need 3.11.
        assert.ok(Number(p.numpy.split(".")[1]) < 3 && p.numpy.startsWith("2."), `numpy ${p.numpy}`);
        assert.ok(p.pandas.startsWith("2."), `pandas ${p.pandas}`);
    });

    it("keeps the base image's user 185 and entrypoint, which the operator's pods run", () => {
        assert.strictEqual(last(file, "USER"), "185");
        assert.strictEqual(last(file, "ENTRYPOINT"), undefined);
        assert.strictEqual(last(file, "CMD"), undefined);
    });
});

describe("images: notebook", () => {
    const file = "images/notebook/Dockerfile";
    const z2jh = { uid: 1000, fsGid: 100, home: "/home/jovyan", cmd: "jupyterhub-singleuser" };

    it("builds on the platform's Spark image, so driver and executors share Spark, Sedona jars and Python", () => {
        assert.strictEqual(args(file).SPARK_IMAGE, IMAGES.spark);
        assert.strictEqual(last(file, "FROM"), "${SPARK_IMAGE}");
    });

    it("installs jupyterhub (jupyterhub-singleuser) at the hub's JupyterHub version, every package pinned", () => {
        const p = pins("images/notebook/requirements.txt");
        assert.strictEqual(p.jupyterhub, SPARK_LINE.jupyterhub);
        for (const pkg of ["jupyterlab", "rasterio", "xarray", "pystac-client", "boto3"]) assert.ok(p[pkg], pkg);
        // Installed on top of the Spark image's pins (Sedona, geopandas, shapely): no second, different pin.
        const spark = pins("images/spark/requirements.txt");
        for (const pkg of Object.keys(p)) assert.strictEqual(spark[pkg], undefined, `${pkg} pinned twice`);
        assert.ok(spark.geopandas);
        assert.match(read(file), /apt-get install -y --no-install-recommends gdal-bin/);
    });

    it("starts jupyterhub-singleuser under tini, as z2jh's singleuser.cmd does", () => {
        assert.strictEqual(last(file, "ENTRYPOINT"), '["/usr/bin/tini", "--"]');
        assert.strictEqual(last(file, "CMD"), `["${z2jh.cmd}"]`);
    });

    it("runs as z2jh's uid and fsGroup with HOME and working directory where z2jh mounts the user's volume", () => {
        assert.strictEqual(last(file, "USER"), `${z2jh.uid}:${z2jh.fsGid}`);
        assert.strictEqual(last(file, "WORKDIR"), z2jh.home);
        assert.match(read(file), new RegExp(`useradd --uid ${z2jh.uid} --gid ${z2jh.fsGid} --home-dir ${z2jh.home}`));
        assert.match(read(file), new RegExp(`HOME=${z2jh.home}`));
    });

    it("puts the Spark distribution's own PySpark on the path and ships the session helper", () => {
        assert.match(read(file), /PYTHONPATH=\/opt\/spark\/python:\/opt\/spark\/python\/lib\/py4j-src\.zip/);
        assert.match(read(file), /COPY geoplatform_spark\.py \/usr\/local\/lib\/python3\.10\/dist-packages\//);
        assert.strictEqual(SPARK_LINE.python, "3.10");
        assert.ok(fs.existsSync(path.join(REPO_ROOT, "images/notebook/geoplatform_spark.py")));
    });
});

describe("images: release workflow", () => {
    const wf = yaml.load(read(".github/workflows/images.yml")) as any;
    const steps = wf.jobs.images.steps as any[];

    it("publishes on a published release, tagged with the release's tag, which the catalog pins for this version", () => {
        assert.deepStrictEqual(wf.on, { release: { types: ["published"] } });
        assert.strictEqual(wf.jobs.images.env.TAG, "${{ github.event.release.tag_name }}");
        const version = JSON.parse(read("package.json")).version;
        assert.strictEqual(PROJECT_IMAGES.tag, `v${version}`, "the release of this version publishes the tag the catalog pins");
        assert.deepStrictEqual(wf.permissions, { contents: "read", packages: "write" });
    });

    it("builds the Spark image first, then the notebook image on the Spark image it has just pushed", () => {
        const builds = steps.filter((s) => String(s.uses).startsWith("docker/build-push-action@"));
        assert.deepStrictEqual(
            builds.map((s) => [s.with.context, s.with.tags]),
            [
                ["images/spark", "${{ env.REGISTRY }}/geoplatform-spark:${{ env.TAG }}"],
                ["images/notebook", "${{ env.REGISTRY }}/geoplatform-notebook:${{ env.TAG }}"],
            ],
        );
        assert.strictEqual(builds[1].with["build-args"], "SPARK_IMAGE=${{ env.REGISTRY }}/geoplatform-spark:${{ env.TAG }}");
        for (const s of steps.filter((x) => x.uses)) assert.match(s.uses, /@v\d+$/, `${s.uses} pinned to a major version`);
    });

    it("names the images the catalog defaults to", () => {
        assert.strictEqual(IMAGES.spark, `${PROJECT_IMAGES.registry}/geoplatform-spark:${PROJECT_IMAGES.tag}`);
        assert.strictEqual(IMAGES.jupyterSingleuser, `${PROJECT_IMAGES.registry}/geoplatform-notebook:${PROJECT_IMAGES.tag}`);
    });

    /** The refs the workflow pushes for a release `tag` of repository owner `owner`, as its shell and expressions compute them. */
    function pushedRefs(owner: string, tag: string): string[] {
        const registryStep = steps.find((s) => s.name === "registry");
        const script = `${registryStep.run}\necho "TAG=$TAG" >> "$GITHUB_ENV"`;
        const envFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "images-wf-")), "env");
        execFileSync("bash", ["-euo", "pipefail", "-c", script], { env: { PATH: process.env.PATH, OWNER: owner, TAG: tag, GITHUB_ENV: envFile } });
        const env = Object.fromEntries(
            fs
                .readFileSync(envFile, "utf8")
                .trim()
                .split("\n")
                .map((l) => l.split("=", 2)),
        );
        return steps
            .filter((s) => String(s.uses).startsWith("docker/build-push-action@"))
            .map((s) => String(s.with.tags).replace(/\$\{\{ env\.(\w+) \}\}/g, (_, name) => env[name]));
    }

    it("pushes exactly the refs a stack pulls with imageRegistry ghcr.io/<owner> (lower-cased), for this version's release", () => {
        const stack = rawGeoplatformConfig("dev");
        const config = validateConfig({ ...stack, imageRegistry: "ghcr.io/some-org" }, "dev");
        assert.deepStrictEqual(pushedRefs("Some-Org", PROJECT_IMAGES.tag), [config.apps.spark.image, config.apps.jupyterhub.singleuserImage]);
        assert.deepStrictEqual(pushedRefs("geoplatform", PROJECT_IMAGES.tag), [IMAGES.spark, IMAGES.jupyterSingleuser], "the default registry");
    });

    it("refuses a release whose tag is not the version the catalog pins", () => {
        const script = steps.find((s) => s.name === "tag").run;
        const run = (tag: string) =>
            spawnSync("bash", ["-euo", "pipefail", "-c", script], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, TAG: tag }, encoding: "utf8" });
        assert.strictEqual(run(PROJECT_IMAGES.tag).status, 0, run(PROJECT_IMAGES.tag).stderr);
        const wrong = run("v9.9.9");
        assert.notStrictEqual(wrong.status, 0);
        assert.match(wrong.stderr, new RegExp(`release tag v9\\.9\\.9 is not ${PROJECT_IMAGES.tag.replace(/\./g, "\\.")}`));
    });
});
