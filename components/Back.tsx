/** A back link, for pages that leave the chat screen (the group pages). */
export function Back({ href, label }: { href: string; label: string }) {
  return <a class="group-back" href={href}>‹ {label}</a>;
}
