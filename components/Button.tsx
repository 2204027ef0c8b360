/** A plain button (never a form submit) with its test id and label: most actions in islands. */
export function Button(p: {
  label: string;
  onClick: () => void;
  testid: string;
  class?: string;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      class={p.class}
      onClick={p.onClick}
      disabled={p.disabled}
      data-testid={p.testid}
    >
      {p.label}
    </button>
  );
}
