/** What every page with an ApiForm shares: the field definitions and the island itself. */
import { Island } from "../components/Island.tsx";
import ApiForm, { type ApiFormProps, type FieldDef } from "../islands/ApiForm.tsx";
import type { Locale } from "../lib/i18n/i18n.ts";

export const FIELDS = {
  login: {
    name: "login",
    label: "field.login",
    autocomplete: "username",
    required: true,
    maxLength: 254,
  },
  username: {
    name: "username",
    label: "field.username",
    autocomplete: "username",
    required: true,
    hint: "hint.username",
    maxLength: 20,
  },
  email: {
    name: "email",
    label: "field.email",
    type: "email",
    autocomplete: "email",
    required: true,
    maxLength: 254,
  },
  nickname: { name: "nickname", label: "field.nickname", autocomplete: "nickname", maxLength: 32 },
  password: {
    name: "password",
    label: "field.password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  },
  signupPassword: {
    name: "password",
    label: "field.password",
    type: "password",
    autocomplete: "new-password",
    required: true,
    hint: "hint.password",
  },
} satisfies Record<string, FieldDef>;

/** The same field under other labels, where the words differ. */
export const FIELD_VARIANTS = {
  newPassword: { ...FIELDS.signupPassword, label: "field.newPassword" },
  currentPassword: { ...FIELDS.password, name: "current", label: "field.currentPassword" },
} satisfies Record<string, FieldDef>;

/** The form island, in the page's language. */
export function apiForm(locale: Locale, form: Omit<ApiFormProps, "locale">) {
  return <Island of={ApiForm} props={{ locale, ...form }} />;
}
