/** Hydrates every island on the page: loads its bundle by name and hydrates it with its props. */
import { h, hydrate } from "preact";

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const name = el.dataset.island!;
  const props = JSON.parse(el.dataset.props ?? "{}");
  import(`./${name}.js`).then((mod) => {
    hydrate(h(mod.default, props), el);
    el.dataset.hydrated = "1";
  });
}
