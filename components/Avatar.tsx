/** A user's avatar picture, or their first letter on a colour taken from their id. */
import type { UserCard } from "../lib/wire/protocol.ts";

export function Avatar(
  { user, size }: {
    user: Pick<UserCard, "id" | "nickname" | "avatarUrl">;
    size: 32 | 40 | 48 | 72 | 96;
  },
) {
  if (user.avatarUrl) {
    return <img class={`avatar s${size}`} src={user.avatarUrl} alt="" width={size} height={size} />;
  }
  const hue = [...user.id].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 360, 0);
  const initial = [...user.nickname.trim()][0]?.toUpperCase() ?? "?";
  return (
    <span class={`avatar s${size} letter h${Math.floor(hue / 30)}`} aria-hidden="true">
      {initial}
    </span>
  );
}
