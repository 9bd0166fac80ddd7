import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { lazy, useState } from 'react';
import { createBrowserRouter, type RouteObject } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { AppShell } from './components/AppShell';
import { NAV_SECTIONS } from './navigation';
import { RouteErrorPage } from './pages/route-error/RouteErrorPage';

const OverviewPage = lazy(() => import('./pages/overview/OverviewPage'));
const ComingSoonPage = lazy(() => import('./pages/coming-soon/ComingSoonPage'));
const NotFoundPage = lazy(() => import('./pages/not-found/NotFoundPage'));

export const routes: RouteObject[] = [
  {
    element: <AppShell />,
    children: [
      {
        // A pathless layer so a page that fails keeps the sidebar around its error.
        errorElement: <RouteErrorPage />,
        children: [
          { index: true, element: <OverviewPage /> },
          ...NAV_SECTIONS.filter((section) => !section.available).map((section) => ({
            path: section.path,
            element: <ComingSoonPage section={section} />,
          })),
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
  },
];

export function App({ queryClient }: { queryClient: QueryClient }) {
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
