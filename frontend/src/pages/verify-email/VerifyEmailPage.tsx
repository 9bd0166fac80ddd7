import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { inspectVerificationKey, verifyEmail } from '../../api/auth';
import { Button, ButtonLink } from '../../components/Button';
import { ErrorNotice } from '../../components/ErrorNotice';
import { FormMessage } from '../../components/Field';
import { PageHeader } from '../../components/PageHeader';
import { Spinner } from '../../components/Spinner';
import { refreshSession } from '../../session/session';

export default function VerifyEmailPage() {
  const { key = '' } = useParams();
  const queryClient = useQueryClient();
  const inspect = useQuery({ queryKey: ['verify-email', key], queryFn: () => inspectVerificationKey(key) });
  const verify = useMutation({
    mutationFn: () => verifyEmail(key),
    onSuccess: () => refreshSession(queryClient),
  });

  return (
    <>
      <PageHeader title="Verify your email" />
      {inspect.isPending && <Spinner label="Checking the link…" />}
      {inspect.isError && <ErrorNotice title="Could not check the link" error={inspect.error} />}
      {inspect.data === null && (
        <FormMessage tone="error">
          This link is invalid or has expired. Sign in to get a new one: <Link to="/account/login">sign in</Link>.
        </FormMessage>
      )}
      {typeof inspect.data === 'string' && !verify.data && (
        <>
          <p>Confirm that {inspect.data ? <strong>{inspect.data}</strong> : 'this address'} is yours.</p>
          <Button variant="primary" onClick={() => verify.mutate()} disabled={verify.isPending}>
            Confirm email address
          </Button>
        </>
      )}
      {verify.isError && <ErrorNotice title="Could not verify" error={verify.error} />}
      {verify.data?.kind === 'error' && <FormMessage tone="error">{verify.data.message}</FormMessage>}
      {verify.data && verify.data.kind !== 'error' && (
        <>
          <FormMessage tone="info">Your email address is verified.</FormMessage>
          <ButtonLink to={verify.data.kind === 'signed-in' ? '/' : '/account/login'} variant="primary">
            Continue
          </ButtonLink>
        </>
      )}
    </>
  );
}
