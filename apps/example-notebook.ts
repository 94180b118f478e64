import { SAMPLE_PREFIX } from "./spark/sample-data";

// The example notebook every user finds in ~/examples: Sedona spatial SQL on the sample dataset in MinIO,
// first in a local session, then with executors on the processing nodes. nbformat 4 JSON, built here so the
// program needs no asset file beside its compiled code.

export const EXAMPLE_NOTEBOOK = "sedona-spatial-sql.ipynb";

const lines = (text: string) =>
    text
        .trim()
        .split("\n")
        .map((l, i, all) => (i < all.length - 1 ? `${l}\n` : l));
const markdown = (text: string) => ({ cell_type: "markdown", metadata: {}, source: lines(text) });
const code = (text: string) => ({ cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: lines(text) });

export function exampleNotebook(samplesBucket: string): string {
    const samples = `s3a://${samplesBucket}/${SAMPLE_PREFIX}`;
    return JSON.stringify(
        {
            nbformat: 4,
            nbformat_minor: 5,
            metadata: {
                kernelspec: { name: "python3", display_name: "Python 3 (ipykernel)", language: "python" },
                language_info: { name: "python" },
            },
            cells: [
                markdown(`
# Sedona spatial SQL on the platform

Points in polygons on the sample dataset (\`${samples}\`): first on this notebook's own cores, then with executors on
the processing nodes. Your object-store credentials are your own (temporary, issued at spawn); \`boto3\` and Spark's
S3A read the same endpoint from the environment and \`spark-defaults.conf\`.`),
                code(`
import os
import boto3

s3 = boto3.client("s3")  # endpoint from AWS_ENDPOINT_URL, credentials from the environment
print(os.environ.get("AWS_ENDPOINT_URL"))
[o["Key"] for o in s3.list_objects_v2(Bucket="${samplesBucket}", Prefix="${SAMPLE_PREFIX}/").get("Contents", [])]`),
                markdown("## Local session"),
                code(`
from geoplatform_spark import session

sedona = session("sedona-local")
sedona.read.option("header", "true").csv("${samples}/points.csv").createOrReplaceTempView("points_raw")
sedona.read.option("header", "true").csv("${samples}/cells.csv").createOrReplaceTempView("cells_raw")
sedona.sql("SELECT CAST(id AS BIGINT) AS id, ST_Point(CAST(lon AS DOUBLE), CAST(lat AS DOUBLE)) AS geom FROM points_raw").createOrReplaceTempView("points")
sedona.sql("SELECT CAST(cell AS INT) AS cell, ST_GeomFromWKT(wkt) AS geom FROM cells_raw").createOrReplaceTempView("cells")`),
                code(`
counts = sedona.sql("""
    SELECT c.cell, count(*) AS points
    FROM cells c JOIN points p ON ST_Contains(c.geom, p.geom)
    GROUP BY c.cell ORDER BY points DESC
""")
counts.show(5)
sedona.stop()`),
                markdown(`
## On the cluster

The same query with two executors on the processing nodes; this kernel stays the driver (Spark client mode).
The executors stop with the session.`),
                code(`
sedona = session("sedona-cluster", executors=2)
sedona.read.option("header", "true").csv("${samples}/points.csv").selectExpr(
    "CAST(id AS BIGINT) AS id", "ST_Point(CAST(lon AS DOUBLE), CAST(lat AS DOUBLE)) AS geom"
).createOrReplaceTempView("points")
sedona.read.option("header", "true").csv("${samples}/cells.csv").selectExpr(
    "CAST(cell AS INT) AS cell", "ST_GeomFromWKT(wkt) AS geom"
).createOrReplaceTempView("cells")
counts = sedona.sql("SELECT c.cell, count(*) AS points FROM cells c JOIN points p ON ST_Contains(c.geom, p.geom) GROUP BY c.cell")
counts.show(5)`),
                markdown(`
## Keep the result

Written as Parquet to the notebooks bucket (\`NOTEBOOKS_BUCKET\`), under a prefix of your user name: the data-scientists group may write there.`),
                code(`
results = f"s3a://{os.environ['NOTEBOOKS_BUCKET']}/{os.environ['JUPYTERHUB_USER']}/sedona-counts"
counts.write.mode("overwrite").parquet(results)
print(results)
sedona.stop()`),
            ],
        },
        null,
        1,
    );
}
