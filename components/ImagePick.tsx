/** A button that opens the picture chooser (the allowlisted types) and hands over the chosen file. */

export const IMAGE_ACCEPT = "image/jpeg,image/png,image/gif,image/webp";

export function ImagePick(
  p: {
    label: string;
    busy: boolean;
    onFile: (file: File) => void;
    testId: string;
    small?: boolean;
  },
) {
  return (
    <label class={`button${p.small ? " small" : ""}${p.busy ? " busy" : ""}`}>
      {p.label}
      <input
        type="file"
        accept={IMAGE_ACCEPT}
        class="visually-hidden"
        disabled={p.busy}
        data-testid={p.testId}
        onChange={(e) => {
          const input = e.currentTarget as HTMLInputElement;
          const file = input.files?.[0];
          input.value = "";
          if (file) p.onFile(file);
        }}
      />
    </label>
  );
}
