/**
 * The example job: a Sedona spatial join (points in polygons) on the sample dataset in the object store,
 * written back as GeoParquet to the results bucket. Mounted from a ConfigMap; arguments: samples prefix, output.
 */
export const SPATIAL_JOIN_PY = `"""Sedona spatial join: count the sample points in each grid cell."""
import sys

from sedona.spark import SedonaContext

samples, output = sys.argv[1], sys.argv[2]
sedona = SedonaContext.create(SedonaContext.builder().appName("sedona-spatial-join").getOrCreate())

read = sedona.read.option("header", "true")
read.csv(f"{samples}/points.csv").selectExpr(
    "CAST(id AS BIGINT) AS id", "ST_Point(CAST(lon AS DOUBLE), CAST(lat AS DOUBLE)) AS geom"
).createOrReplaceTempView("points")
read.csv(f"{samples}/cells.csv").selectExpr("CAST(cell AS INT) AS cell", "ST_GeomFromWKT(wkt) AS geom").createOrReplaceTempView("cells")

joined = sedona.sql(
    "SELECT c.cell, c.geom, count(*) AS points FROM cells c JOIN points p "
    "ON ST_Contains(c.geom, p.geom) GROUP BY c.cell, c.geom"
)
joined.write.mode("overwrite").format("geoparquet").save(output)
print(f"wrote {joined.count()} cells to {output}")
`;
