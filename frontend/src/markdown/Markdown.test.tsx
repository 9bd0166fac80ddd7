import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';

describe('Markdown', () => {
  it('renders headings, lists, emphasis, code and safe links', () => {
    render(<Markdown source={'# Report\n\n- **120** rows\n- took `3 s`\n\nSee [docs](https://tether.example/docs).'} />);
    expect(screen.getByRole('heading', { name: 'Report' })).toBeInTheDocument();
    expect(screen.getAllByRole('listitem')).toHaveLength(2);
    expect(screen.getByText('120').tagName).toBe('STRONG');
    expect(screen.getByText('3 s').tagName).toBe('CODE');
    expect(screen.getByRole('link', { name: 'docs' })).toHaveAttribute('href', 'https://tether.example/docs');
  });

  it('never turns text into HTML or a script link', () => {
    const { container } = render(
      <Markdown source={'<img src=x onerror="alert(1)"> and [click](javascript:alert(1))\n\n<script>alert(2)</script>'} />,
    );
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(screen.queryByRole('link')).toBeNull();
    expect(container).toHaveTextContent('<img src=x onerror="alert(1)">');
    expect(container).toHaveTextContent('click');
  });
});
