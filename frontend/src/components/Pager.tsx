import { Button } from './Button';

interface PagerProps {
  next?: string | null | undefined;
  previous?: string | null | undefined;
  onPage: (url: string) => void;
  label: string;
}

/** Previous/next buttons for the server's cursor pages; the URLs are followed as given. */
export function Pager({ next, previous, onPage, label }: PagerProps) {
  if (!next && !previous) return null;
  return (
    <nav className="pager" aria-label={label}>
      <Button disabled={!previous} onClick={() => previous && onPage(previous)}>
        ← Previous
      </Button>
      <Button disabled={!next} onClick={() => next && onPage(next)}>
        Next →
      </Button>
    </nav>
  );
}
