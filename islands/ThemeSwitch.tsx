/**
 * Appearance in Settings: as the system says, light or dark. Kept in a cookie (no account
 * setting: it is this device's), so the server renders the next page in it without a flash.
 */
import { useState } from "preact/hooks";
import { type Locale, t } from "../lib/i18n/i18n.ts";

type Theme = "system" | "light" | "dark";

export default function ThemeSwitch(p: { locale: Locale; theme: Theme }) {
  const [theme, setTheme] = useState<Theme>(p.theme);

  function choose(next: Theme) {
    setTheme(next);
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = next === "system"
      ? `theme=; Path=/; Max-Age=0; SameSite=Lax${secure}`
      : `theme=${next}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
    const root = document.documentElement;
    if (next === "system") delete root.dataset.theme;
    else root.dataset.theme = next;
  }

  return (
    <fieldset class="card theme-switch" data-testid="theme">
      <legend class="visually-hidden">{t(p.locale, "settings.theme")}</legend>
      {(["system", "light", "dark"] as const).map((v) => (
        <label key={v} class="check">
          <input
            type="radio"
            name="theme"
            value={v}
            checked={theme === v}
            onChange={() => choose(v)}
            data-testid={`theme-${v}`}
          />
          {t(p.locale, `theme.${v}`)}
        </label>
      ))}
    </fieldset>
  );
}
