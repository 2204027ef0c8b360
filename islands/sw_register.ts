/**
 * The page's side of the service worker (islands/sw.ts, served at /sw.js): registers it from
 * every page (islands/_boot.ts) and offers a new version once one is installed and waiting. The
 * banner's button tells the waiting worker to take over (SKIP_WAITING), and the page reloads
 * once when it has, so the page and its worker are of the same build again. No banner on the
 * first install: nothing older is running then.
 */
import type { Locale } from "../lib/i18n/i18n.ts";

const HOUR = 60 * 60 * 1000;

/** Registers the worker after the page has loaded, so its precaching never slows the page. */
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  const updater = new Updater(navigator.serviceWorker);
  const start = () => updater.register();
  if (document.readyState === "complete") start();
  else addEventListener("load", start, { once: true });
}

class Updater {
  #accepted = false;
  #reg: ServiceWorkerRegistration | null = null;

  constructor(readonly sw: ServiceWorkerContainer) {
    sw.addEventListener("controllerchange", () => {
      // Only after this page's button: another tab's choice leaves this page as it is.
      if (!this.#accepted) return;
      this.#accepted = false;
      location.reload();
    });
  }

  async register(): Promise<void> {
    try {
      this.#reg = await this.sw.register("/sw.js");
    } catch (err) {
      warn("cannot register the service worker", err);
      return;
    }
    const reg = this.#reg;
    if (reg.waiting && this.sw.controller) void this.#offer();
    reg.addEventListener("updatefound", () => {
      const next = reg.installing;
      next?.addEventListener("statechange", () => {
        if (next.state === "installed" && this.sw.controller) void this.#offer();
      });
    });
    // A chat stays open for days without the navigation on which browsers look for a new worker.
    setInterval(() => {
      if (navigator.onLine) reg.update().catch((err) => warn("cannot look for an update", err));
    }, HOUR);
  }

  /** Shows the banner (once). */
  async #offer(): Promise<void> {
    // The texts only now: every page loads this module, and a page without islands needs no i18n.
    const { t, toLocale } = await import("../lib/i18n/i18n.ts");
    if (document.querySelector(".update-banner")) return;
    const locale: Locale = toLocale(document.documentElement.lang) ?? "en";
    const banner = document.createElement("div");
    banner.className = "update-banner";
    banner.setAttribute("role", "status");
    banner.dataset.testid = "update-banner";
    const text = document.createElement("span");
    text.textContent = t(locale, "pwa.updateReady");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary small";
    button.dataset.testid = "update-reload";
    button.textContent = t(locale, "pwa.reload");
    button.addEventListener("click", () => this.#accept(button));
    banner.append(text, button);
    document.body.append(banner);
  }

  #accept(button: HTMLButtonElement): void {
    const waiting = this.#reg?.waiting;
    // Already active (another tab said so first): this page only has to load again.
    if (!waiting) return location.reload();
    button.disabled = true;
    this.#accepted = true;
    waiting.postMessage({ type: "SKIP_WAITING" });
  }
}

function warn(what: string, err: unknown): void {
  // A page without its worker still works online: a warning for whoever looks, not an error.
  // deno-lint-ignore no-console
  console.warn(`HappyChat: ${what}:`, err);
}
