import { useTheme } from '../theme/theme';

export function ThemeToggle() {
  const { theme, toggleTheme } = useTheme();
  const isDark = theme === 'dark';
  return (
    <button type="button" className="theme-toggle" aria-pressed={isDark} onClick={toggleTheme}>
      <span aria-hidden="true">{isDark ? '☾' : '☀'}</span> Dark mode
    </button>
  );
}
