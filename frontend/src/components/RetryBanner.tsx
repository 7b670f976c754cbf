// A failed load, said plainly, with the one action that may fix it.

export function RetryBanner({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div className="banner" role="alert">
      <span>{message}</span>
      <button type="button" className="button button--small" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}
