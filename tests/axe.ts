/**
 * axe-core for the accessibility tests (browser_a11y_test in Chromium, engines_a11y_test in all
 * three engines): the library's source to put in a page, and the one audit both run.
 */
export const AXE_SOURCE = await Deno.readTextFile(
  new URL("../node_modules/axe-core/axe.min.js", import.meta.url),
);

/**
 * Runs in the page, once AXE_SOURCE is in it: axe's violations of WCAG 2.0/2.1 A and AA and best
 * practice, one line each. Self-contained, because the drivers send its source to the page.
 */
export function axeViolations(): Promise<string[]> {
  type Found = {
    id: string;
    impact: string;
    help: string;
    nodes: { target: string[] }[];
  };
  // @ts-ignore: axe is the global the test put in the page
  return axe.run(document, {
    runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    // Only what fails; no fetching the style sheets again (for css-orientation-lock only).
    resultTypes: ["violations"],
    preload: false,
    iframes: false,
  }).then((r: { violations: Found[] }) =>
    r.violations.map((v) =>
      `${v.id} (${v.impact}) ${v.help} — ${
        v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(", ")
      }${v.nodes.length > 4 ? ` and ${v.nodes.length - 4} more` : ""}`
    )
  );
}
