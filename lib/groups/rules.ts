/** The limits of groups and the checks of their inputs: pure, no KV. */
import { HttpError } from "../errors.ts";
import { nameProblem, textProblem } from "../wire/validate.ts";

export const GROUP_CAP = 500;
/** Friends added when the group is created (one atomic write; more can be added afterwards). */
export const CREATE_MEMBERS_MAX = 200;
export const TITLE_MAX = 30;
export const NOTICE_MAX = 500;
export const DISPLAY_NAME_MAX = 32;
export const MUTE_MAX_MINUTES = 30 * 24 * 60;

/** An id as the server makes them; anything else cannot name a group or a user. */
export function validId(id: unknown): id is string {
  return typeof id === "string" && /^[0-9a-z]{1,40}$/.test(id);
}

export function checkTitle(raw: string): string {
  const title = raw.trim();
  const p = nameProblem(title, TITLE_MAX, true);
  if (p) {
    throw new HttpError(400, p, `Invalid group name: ${p}`, {
      field: "title",
      params: { max: TITLE_MAX },
    });
  }
  return title;
}

export function titleKey(title: string): string {
  return title.normalize("NFKC").toLowerCase().slice(0, 64);
}

/** Checks a notice: multi-line text up to NOTICE_MAX ("" clears it). */
export function checkNotice(raw: string): string {
  const text = raw.trim();
  const p = textProblem(text, NOTICE_MAX, false);
  if (p) {
    throw new HttpError(400, p, `Invalid notice: ${p}`, {
      field: "notice",
      params: { max: NOTICE_MAX },
    });
  }
  return text;
}
