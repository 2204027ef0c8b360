/**
 * The icons of the app's controls, drawn as inline SVG in the text colour. They were emoji
 * (🔔 🔕 🔍 😊 📎), which need a colour-emoji font: Firefox brings its own, but Chromium and WebKit
 * use the system's, and on a machine without one (many Linux desktops, this CI machine) every icon
 * button showed an empty box. An SVG draws the same everywhere and follows the theme's colour.
 */
export type IconName =
  | "bell"
  | "bell-off"
  | "search"
  | "smile"
  | "clip"
  | "plus"
  | "chat"
  | "contacts"
  | "me";

const PATHS: Record<IconName, string> = {
  bell: "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0",
  "bell-off": "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0M4 4l16 16",
  search: "M10.5 4a6.5 6.5 0 1 1 0 13a6.5 6.5 0 0 1 0-13zM15.5 15.5L20 20",
  plus: "M12 3a9 9 0 1 1 0 18a9 9 0 0 1 0-18zM12 8v8M8 12h8",
  smile: "M12 3a9 9 0 1 1 0 18a9 9 0 0 1 0-18zM8.5 14.5a4.5 4.5 0 0 0 7 0M9 9.5v.5M15 9.5v.5",
  chat: "M5 4h14a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1h-9l-5 4v-4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z",
  contacts:
    "M9 11a3.5 3.5 0 1 0 0-7a3.5 3.5 0 0 0 0 7zM2.5 20a6.5 6.5 0 0 1 13 0M16 4.5a3.5 3.5 0 0 1 0 6.5M18.5 14a6 6 0 0 1 3 6",
  me: "M12 12a4 4 0 1 0 0-8a4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0",
  clip:
    "M16.5 7.5l-7 7a2 2 0 0 0 2.8 2.8l7.4-7.4a4 4 0 0 0-5.6-5.6l-7.4 7.4a6 6 0 0 0 8.5 8.5l6.3-6.3",
};

/** An icon for a control; the control carries the accessible name, so this one is hidden. */
export function Icon({ name, size = 22 }: { name: IconName; size?: number }) {
  return (
    <svg
      class="icon"
      data-icon={name}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
