import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useContext, type ReactNode } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { fetchSession, logout, type SessionUser } from '../api/auth';
import { ErrorNotice } from '../components/ErrorNotice';
import { Spinner } from '../components/Spinner';

export const SESSION_KEY = ['session'] as const;

const SessionContext = createContext<SessionUser | null>(null);

/**
 * Re-reads the session after sign-in. A cached "signed out" answer must not survive: the
 * gate would otherwise bounce the user back to the login page before a background refetch.
 */
export async function refreshSession(queryClient: QueryClient): Promise<SessionUser | null> {
  return queryClient.fetchQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 0 });
}

export function useSessionQuery() {
  return useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 60_000 });
}

/** The signed-in user; only valid below `RequireSession`. */
export function useSessionUser(): SessionUser {
  const user = useContext(SessionContext);
  if (!user) throw new Error('useSessionUser() used outside <RequireSession>');
  return user;
}

/** Where the login page sends people back to after signing in. */
export function loginUrl(next: string): string {
  return next && next !== '/' ? `/account/login?next=${encodeURIComponent(next)}` : '/account/login';
}

/** Renders its children for a signed-in user; everyone else goes to the login page and back. */
export function RequireSession({ children }: { children: ReactNode }) {
  const session = useSessionQuery();
  const location = useLocation();
  if (session.isPending) return <Spinner label="Checking your session…" />;
  if (session.isError) return <ErrorNotice title="Could not check your session" error={session.error} />;
  if (!session.data) return <Navigate to={loginUrl(location.pathname + location.search)} replace />;
  return <SessionContext.Provider value={session.data}>{children}</SessionContext.Provider>;
}

export function useLogout() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: logout,
    onSuccess: () => {
      // Nothing cached for this user may show to the next one.
      queryClient.clear();
      queryClient.setQueryData(SESSION_KEY, null);
      void navigate('/account/login', { replace: true });
    },
  });
}
