// Parses Mermaid diagrams with Mermaid's own parser (mermaid.parse), the one GitHub and GitLab
// render with: each file named on the command line, or standard input. Prints the diagram type
// of each; on the first that does not parse, prints the parser's error and exits 1.
// Installed into .node/ by scripts/setup-node-tools.sh, next to the packages it imports.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

// Mermaid sanitizes labels with DOMPurify, which needs a DOM.
const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

const sources = process.argv.length > 2 ? process.argv.slice(2) : [0];
for (const source of sources) {
  const text = readFileSync(source, "utf8");
  try {
    const parsed = await mermaid.parse(text);
    console.log(`${source === 0 ? "stdin" : source}: ${parsed.diagramType}`);
  } catch (e) {
    console.error(`${source === 0 ? "stdin" : source}: ${(e && e.message) || e}`);
    process.exit(1);
  }
}
