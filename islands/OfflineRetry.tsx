/**
 * The offline page's button (routes/offline.tsx): loads the page again. Coming back online does
 * it by itself. The page may stand in for any URL, so it reloads that one, not /offline.
 */
import { useEffect } from "preact/hooks";

/** How often the page tries again while the browser thinks it is online (the server is not). */
const RETRY_MS = 5000;
/** How long after "online" it tries. */
const SETTLE_MS = 1000;

export interface OfflineRetryProps {
  /** The button's text, in both languages: the page is cached once for every visitor. */
  label: string;
}

export default function OfflineRetry({ label }: OfflineRetryProps) {
  useEffect(() => {
    const retry = () => navigator.onLine && location.reload();
    // A moment later, and only if still online: Chromium also fires "online" in a page it is
    // leaving while offline, and a network just back may not carry a request yet.
    let settling: ReturnType<typeof setTimeout> | undefined;
    const settle = () => {
      clearTimeout(settling);
      settling = setTimeout(retry, SETTLE_MS);
    };
    addEventListener("online", settle);
    // Shown although online: the server is down or unreachable, or the network came back a moment
    // too late for the last try. No "online" event will come: try again now and then.
    const timer = setInterval(retry, RETRY_MS);
    return () => {
      removeEventListener("online", settle);
      clearTimeout(settling);
      clearInterval(timer);
    };
  }, []);
  return (
    <button
      type="button"
      class="primary"
      data-testid="offline-retry"
      onClick={() => location.reload()}
    >
      {label}
    </button>
  );
}
