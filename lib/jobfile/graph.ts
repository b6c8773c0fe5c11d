/**
 * The job graph: who needs whom. Pure functions over `{ name, needs }` nodes, used both on the
 * job file (to reject cycles with a readable path) and on the expanded jobs (to run them).
 *
 * @module
 */

/** A node of the graph. */
export interface GraphNode {
  name: string;
  needs: readonly string[];
}

/**
 * A cycle among the nodes, as the path that closes it (`["a", "b", "a"]`), or undefined.
 * Needs that name no node are ignored here (they are reported elsewhere).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findCycle } from "./graph.ts";
 * const cycle = findCycle([
 *   { name: "a", needs: ["b"] },
 *   { name: "b", needs: ["a"] },
 * ]);
 * assert(cycle?.join(" -> ") === "a -> b -> a");
 * ```
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];

  // Iterative DFS so a long chain of needs cannot overflow the call stack.
  for (const root of nodes) {
    if (state.has(root.name)) continue;
    const frames: { name: string; next: number }[] = [{ name: root.name, next: 0 }];
    state.set(root.name, "visiting");
    stack.push(root.name);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const needs = byName.get(frame.name)?.needs ?? [];
      if (frame.next < needs.length) {
        const need = needs[frame.next++]!;
        if (!byName.has(need)) continue;
        const seen = state.get(need);
        if (seen === "visiting") return [...stack.slice(stack.indexOf(need)), need];
        if (seen === "done") continue;
        state.set(need, "visiting");
        stack.push(need);
        frames.push({ name: need, next: 0 });
      } else {
        state.set(frame.name, "done");
        stack.pop();
        frames.pop();
      }
    }
  }
  return undefined;
}

/**
 * Names in an order where every node comes after its needs (stable: ties keep input order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topologicalOrder } from "./graph.ts";
 * const order = topologicalOrder([
 *   { name: "report", needs: ["fetch"] },
 *   { name: "fetch", needs: [] },
 * ]);
 * assert(order.join() === "fetch,report");
 * ```
 * @throws {RangeError} when the graph has a cycle
 */
export function topologicalOrder(nodes: readonly GraphNode[]): string[] {
  const known = new Set(nodes.map((node) => node.name));
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    const needs = node.needs.filter((need) => known.has(need));
    pending.set(node.name, needs.length);
    for (const need of needs) {
      const list = dependents.get(need);
      if (list) list.push(node.name);
      else dependents.set(need, [node.name]);
    }
  }
  const order = nodes.filter((node) => pending.get(node.name) === 0).map((node) => node.name);
  for (let i = 0; i < order.length; i++) {
    for (const dependent of dependents.get(order[i]!) ?? []) {
      const left = pending.get(dependent)! - 1;
      pending.set(dependent, left);
      if (left === 0) order.push(dependent);
    }
  }
  if (order.length !== nodes.length) {
    const cycle = findCycle(nodes);
    throw new RangeError(`The jobs form a cycle: ${cycle?.join(" -> ") ?? "unknown"}`);
  }
  return order;
}
