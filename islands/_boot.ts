/**
 * Hydrates every island on the page (loads its bundle by name and hydrates it with its props), and
 * registers the service worker (islands/sw_register.ts).
 */
import { h, hydrate } from "preact";
import { registerServiceWorker } from "./sw_register.ts";

const NAME = /^[A-Z][A-Za-z0-9]*$/;

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const name = el.dataset.island!;
  if (!NAME.test(name)) continue;
  const props = JSON.parse(el.dataset.props ?? "{}");
  // A URL, not a "./x.js" template: the bundler would turn a template into a lookup table of
  // modules inside the bundle, where the islands (separate entry points) are not.
  import(new URL(`./${name}.js`, import.meta.url).href).then((mod) => {
    hydrate(h(mod.default, props), el);
    el.dataset.hydrated = "1";
  });
}

registerServiceWorker();
