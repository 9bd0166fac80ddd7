import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { lazy, useState } from 'react';
import { createBrowserRouter, type RouteObject } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { AppShell } from './components/AppShell';
import { PlainLayout } from './components/PlainLayout';
import { NAV_SECTIONS } from './navigation';
import { RouteErrorPage } from './pages/route-error/RouteErrorPage';
import { RequireSession } from './session/session';

// Every page is its own chunk; the shell, router and query client are all the first load needs.
const LoginPage = lazy(() => import('./pages/login/LoginPage'));
const SignupPage = lazy(() => import('./pages/signup/SignupPage'));
const VerifyEmailPage = lazy(() => import('./pages/verify-email/VerifyEmailPage'));
const PasswordResetRequestPage = lazy(() => import('./pages/password-reset/PasswordResetRequestPage'));
const PasswordResetKeyPage = lazy(() => import('./pages/password-reset/PasswordResetKeyPage'));
const AcceptInvitationPage = lazy(() => import('./pages/accept-invitation/AcceptInvitationPage'));
const HomeRedirectPage = lazy(() => import('./pages/home-redirect/HomeRedirectPage'));
const OrgRedirectPage = lazy(() => import('./pages/home-redirect/OrgRedirectPage'));
const DashboardPage = lazy(() => import('./pages/dashboard/DashboardPage'));
const FlowRunsPage = lazy(() => import('./pages/flow-runs/FlowRunsPage'));
const FlowRunPage = lazy(() => import('./pages/flow-run/FlowRunPage'));
const DeploymentsPage = lazy(() => import('./pages/deployments/DeploymentsPage'));
const DeploymentPage = lazy(() => import('./pages/deployment/DeploymentPage'));
const WorkPoolsPage = lazy(() => import('./pages/work-pools/WorkPoolsPage'));
const VariablesPage = lazy(() => import('./pages/variables/VariablesPage'));
const ConcurrencyPage = lazy(() => import('./pages/concurrency/ConcurrencyPage'));
const SettingsPage = lazy(() => import('./pages/settings/SettingsPage'));
const OverviewPage = lazy(() => import('./pages/overview/OverviewPage'));
const BlocksPage = lazy(() => import('./pages/blocks/BlocksPage'));
const BlockPage = lazy(() => import('./pages/blocks/BlockPage'));
const AutomationsPage = lazy(() => import('./pages/automations/AutomationsPage'));
const NewAutomationPage = lazy(() => import('./pages/automations/NewAutomationPage'));
const AutomationPage = lazy(() => import('./pages/automations/AutomationPage'));
const EditAutomationPage = lazy(() => import('./pages/automations/EditAutomationPage'));
const EventsPage = lazy(() => import('./pages/events/EventsPage'));
const BackgroundTasksPage = lazy(() => import('./pages/background-tasks/BackgroundTasksPage'));
const ComingSoonPage = lazy(() => import('./pages/coming-soon/ComingSoonPage'));
const NotFoundPage = lazy(() => import('./pages/not-found/NotFoundPage'));

export const routes: RouteObject[] = [
  {
    // Pages for people who are not signed in (or not inside a workspace yet).
    element: <PlainLayout />,
    errorElement: <RouteErrorPage />,
    children: [
      { path: 'account/login', element: <LoginPage /> },
      { path: 'account/signup', element: <SignupPage /> },
      { path: 'account/verify-email/:key', element: <VerifyEmailPage /> },
      { path: 'account/password/reset', element: <PasswordResetRequestPage /> },
      { path: 'account/password/reset/key/:key', element: <PasswordResetKeyPage /> },
      {
        path: 'invitations/accept',
        element: (
          <RequireSession>
            <AcceptInvitationPage />
          </RequireSession>
        ),
      },
      {
        index: true,
        element: (
          <RequireSession>
            <HomeRedirectPage />
          </RequireSession>
        ),
      },
      {
        path: 'o/:org',
        element: (
          <RequireSession>
            <OrgRedirectPage />
          </RequireSession>
        ),
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
  {
    path: 'o/:org/w/:ws',
    element: (
      <RequireSession>
        <AppShell />
      </RequireSession>
    ),
    children: [
      {
        // A pathless layer so a page that fails keeps the sidebar around its error.
        errorElement: <RouteErrorPage />,
        children: [
          { index: true, element: <DashboardPage /> },
          { path: 'flow-runs', element: <FlowRunsPage /> },
          { path: 'flow-runs/:runId', element: <FlowRunPage /> },
          { path: 'deployments', element: <DeploymentsPage /> },
          { path: 'deployments/:deploymentId', element: <DeploymentPage /> },
          { path: 'work-pools', element: <WorkPoolsPage /> },
          { path: 'variables', element: <VariablesPage /> },
          { path: 'concurrency', element: <ConcurrencyPage /> },
          { path: 'blocks', element: <BlocksPage /> },
          { path: 'blocks/new', element: <BlockPage /> },
          { path: 'blocks/:blockId', element: <BlockPage /> },
          { path: 'automations', element: <AutomationsPage /> },
          { path: 'automations/new', element: <NewAutomationPage /> },
          { path: 'automations/:automationId', element: <AutomationPage /> },
          { path: 'automations/:automationId/edit', element: <EditAutomationPage /> },
          { path: 'events', element: <EventsPage /> },
          { path: 'background-tasks', element: <BackgroundTasksPage /> },
          { path: 'settings', element: <SettingsPage /> },
          { path: 'instance', element: <OverviewPage /> },
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
