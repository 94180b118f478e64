import * as assert from "assert";
import { GraphNode, criticalPath, edgeCount } from "../bench/graph";

const node = (urn: string, after: string[] = []): GraphNode => ({ urn, type: "t", after });

describe("deployment graph analysis", () => {
    // a → b → d and a → c → d, with c slow: the weighted path goes through c.
    const graph = [node("a"), node("b", ["a"]), node("c", ["a"]), node("d", ["b", "c"]), node("e")];
    const weights: Record<string, number> = { a: 1, b: 2, c: 10, d: 1, e: 5 };

    it("finds the longest chain by count", () => {
        const result = criticalPath(graph);
        assert.strictEqual(result.length, 3);
        assert.deepStrictEqual(result.path.map((n) => n.urn)[0], "a");
        assert.strictEqual(result.path[2].urn, "d");
    });

    it("finds the heaviest chain by weight", () => {
        const result = criticalPath(graph, (n) => weights[n.urn]);
        assert.strictEqual(result.length, 12);
        assert.deepStrictEqual(
            result.path.map((n) => n.urn),
            ["a", "c", "d"],
        );
    });

    it("counts edges and rejects cycles", () => {
        assert.strictEqual(edgeCount(graph), 4);
        assert.throws(() => criticalPath([node("x", ["y"]), node("y", ["x"])]), /cycle/);
    });
});
