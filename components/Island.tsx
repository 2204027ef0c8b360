/** Server side of an island: renders it, and marks it with its name and props for hydration. */
import type { ComponentType } from "preact";

/**
 * `<Island of={ApiForm} props={…} />`. The island's default export must be a function named
 * like its file (islands/ApiForm.tsx → `function ApiForm`); islands_test.ts checks that.
 */
export function Island<P extends object>(
  { of: C, props }: { of: ComponentType<P>; props: NoInfer<P> },
) {
  return (
    <div class="island" data-island={C.name} data-props={JSON.stringify(props)}>
      <C {...props} />
    </div>
  );
}
