/**
 * The example job: a Sedona spatial join (points in polygons) on generated
 * data, written as GeoParquet to the object store. Mounted from a ConfigMap.
 */
export const SPATIAL_JOIN_PY = `"""Sedona spatial join: count generated points per grid polygon."""
import sys

from sedona.spark import SedonaContext

output = sys.argv[1]
sedona = SedonaContext.create(SedonaContext.builder().appName("sedona-spatial-join").getOrCreate())

sedona.range(0, 100000).selectExpr(
    "id", "ST_Point(rand(1) * 10, rand(2) * 10) AS geom"
).createOrReplaceTempView("points")
sedona.range(0, 100).selectExpr(
    "id AS cell",
    "ST_PolygonFromEnvelope(id % 10, floor(id / 10), id % 10 + 1, floor(id / 10) + 1) AS geom",
).createOrReplaceTempView("cells")

joined = sedona.sql(
    "SELECT c.cell, c.geom, count(*) AS points FROM cells c JOIN points p "
    "ON ST_Contains(c.geom, p.geom) GROUP BY c.cell, c.geom"
)
joined.write.mode("overwrite").format("geoparquet").save(output)
print(f"wrote {joined.count()} cells to {output}")
`;
