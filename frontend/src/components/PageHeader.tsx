import { useEffect, type ReactNode } from 'react';

/** The page's h1; also keeps the document title in step for tabs and screen readers. */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Tether`;
  }, [title]);

  return (
    <header className="page-header">
      <h1 className="page-header__title">{title}</h1>
      {children && <p className="page-header__lede">{children}</p>}
    </header>
  );
}
