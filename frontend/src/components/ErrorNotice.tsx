import { ApiError } from '../api/client';

/** Shows why a request failed; the server's ApiError message is written for people. */
export function ErrorNotice({ error, title }: { error: unknown; title: string }) {
  const message = error instanceof Error ? error.message : 'Something unexpected went wrong.';
  return (
    <div className="error-notice" role="alert">
      <p className="error-notice__title">{title}</p>
      <p className="error-notice__message">{message}</p>
      {error instanceof ApiError && error.status > 0 && (
        <p className="error-notice__meta">
          HTTP {error.status} · <code>{error.code}</code>
        </p>
      )}
    </div>
  );
}
