/** The page's top bar is server-rendered, outside every island: what islands change in it. */

/** Shows a new nickname of the logged-in user in the top bar (its text and its tooltip). */
export function showMyName(nickname: string): void {
  const me = document.querySelector<HTMLElement>('[data-testid="me"]');
  if (!me) return;
  me.title = nickname;
  const name = me.querySelector(".me-name");
  if (name) name.textContent = nickname;
}
